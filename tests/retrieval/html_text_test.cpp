#include "retrieval/html_text.h"

#include <doctest/doctest.h>

#include <string>

#include "text/unicode.h"

using namespace roundup::retrieval;

namespace {

std::string markdown_of(const std::string& html) {
  return parse_html_page(html).markdown;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A page as a browser saves it: cookie banner, site header and navigation, the article with its
// own header, an aside and a footer inside it, scripts and styles around it.
const char* const k_blog_page = R"(<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>ML Research Roundup: March 2022 | The Gradient Blog</title>
  <meta property="article:published_time" content="2022-04-02T08:30:00+00:00">
  <link rel="canonical" href="https://blog.example.com/2022/04/ml-roundup-march/">
  <style>.cookie { position: fixed; } p { margin: 0 }</style>
  <script>window.dataLayer = []; document.write("<p>tracking</p>");</script>
</head>
<body>
  <div class="cookie" role="dialog">We use cookies to improve your experience. <button>Accept all</button></div>
  <header class="site-header">
    <a href="/" class="logo">The Gradient Blog</a>
    <nav><ul><li><a href="/archive">Archive</a></li><li><a href="/about">About</a></li></ul></nav>
  </header>
  <main>
    <article class="post">
      <header class="entry-header">
        <h1 class="entry-title">ML Research Roundup: March&nbsp;2022</h1>
        <p class="byline">By <a href="/authors/sergi">Sergi</a> · <time datetime="2022-04-02">April 2</time></p>
      </header>
      <p>Welcome to this month&rsquo;s roundup. We picked <strong>two papers</strong> and the news.</p>
      <h2>News</h2>
      <ul>
        <li><a href="https://example.com/chip">Widget chip</a> doubles inference speed.</li>
        <li>PyTorch turns five.</li>
      </ul>
      <h2>Papers</h2>
      <h3><a href="https://arxiv.org/abs/2203.15556">1. Training Compute-Optimal Large Language Models</a></h3>
      <p><em>Jordan Hoffmann, Sebastian Borgeaud et al.</em></p>
      <p><strong>Why &rarr;</strong> Models are <em>undertrained</em>: scale tokens with parameters.</p>
      <figure><img src="/img/chinchilla.png" alt="Loss curves">
        <figcaption>Figure 1: loss vs. compute.</figcaption></figure>
      <h3><a href="https://arxiv.org/abs/2204.02311">2. PaLM: Scaling Language Modeling with Pathways</a></h3>
      <p><em>Aakanksha Chowdhery et al.</em></p>
      <p>A 540B model. Code: <a href="https://github.com/google/paxml">paxml</a>.</p>
      <aside class="newsletter">Subscribe to our newsletter!</aside>
      <footer class="entry-footer">Tags: <a href="/tag/llm">llm</a></footer>
    </article>
  </main>
  <footer class="site-footer">&copy; 2022 The Gradient Blog</footer>
  <script src="/analytics.js"></script>
</body>
</html>
)";

}  // namespace

TEST_CASE("html text: a blog page keeps the article and drops the furniture") {
  const HtmlDocument page = parse_html_page(k_blog_page);
  CHECK(page.title == "ML Research Roundup: March 2022");
  CHECK(page.published == "2022-04-02");
  CHECK(page.canonical_url == "https://blog.example.com/2022/04/ml-roundup-march/");
  CHECK(page.markdown ==
        "# ML Research Roundup: March 2022\n"
        "\n"
        "By [Sergi](https://blog.example.com/authors/sergi) · April 2\n"
        "\n"
        "Welcome to this month’s roundup. We picked **two papers** and the news.\n"
        "\n"
        "## News\n"
        "\n"
        "- [Widget chip](https://example.com/chip) doubles inference speed.\n"
        "- PyTorch turns five.\n"
        "\n"
        "## Papers\n"
        "\n"
        "### [1. Training Compute-Optimal Large Language Models](https://arxiv.org/abs/2203.15556)\n"
        "\n"
        "*Jordan Hoffmann, Sebastian Borgeaud et al.*\n"
        "\n"
        "**Why →** Models are *undertrained*: scale tokens with parameters.\n"
        "\n"
        "Figure 1: loss vs. compute.\n"
        "\n"
        "### [2. PaLM: Scaling Language Modeling with Pathways](https://arxiv.org/abs/2204.02311)\n"
        "\n"
        "*Aakanksha Chowdhery et al.*\n"
        "\n"
        "A 540B model. Code: [paxml](https://github.com/google/paxml).\n");
  for (const char* furniture : {"cookies", "Accept all", "Archive", "About", "The Gradient Blog", "tracking",
                                "dataLayer", "position: fixed", "newsletter", "Tags", "2022 The", "Loss curves"}) {
    CHECK_MESSAGE(!contains(page.markdown, furniture), furniture);
  }
}

TEST_CASE("html text: the title comes from the article h1 else from the title element") {
  SUBCASE("an h1 after other content is hoisted to the first line once") {
    const HtmlDocument page = parse_html_page(
        "<title>Site title</title><article><p>Kicker</p><h1> The  <em>real</em>\n title </h1><p>Body</p></article>");
    CHECK(page.title == "The real title");
    CHECK(page.markdown == "# The real title\n\nKicker\n\nBody\n");
  }
  SUBCASE("no h1: the title element, white space squashed") {
    const HtmlDocument page = parse_html_page("<title>\n  Monthly\tpicks &amp; notes  </title><p>Body</p>");
    CHECK(page.title == "Monthly picks & notes");
    CHECK(page.markdown == "# Monthly picks & notes\n\nBody\n");
  }
  SUBCASE("an h1 outside the article is not its title") {
    const HtmlDocument page =
        parse_html_page("<title>T</title><body><h1>Blog name</h1><article><h2>Post</h2></article></body>");
    CHECK(page.title == "T");
    CHECK(page.markdown == "# T\n\n## Post\n");
  }
  SUBCASE("a header without the h1 is skipped even inside the article") {
    const HtmlDocument page = parse_html_page("<article><header>Share this</header><h1>Post</h1><p>Text</p></article>");
    CHECK(page.markdown == "# Post\n\nText\n");
  }
}

TEST_CASE("html text: the published date from each meta form and the article's time") {
  SUBCASE("article:published_time") {
    CHECK(parse_html_page(R"(<meta property="article:published_time" content="2021-11-30T23:59:59Z">)").published ==
          "2021-11-30");
  }
  SUBCASE("name=date") {
    CHECK(parse_html_page(R"(<meta name="date" content=" 2021-07 ">)").published == "2021-07");
  }
  SUBCASE("itemprop=datePublished") {
    CHECK(parse_html_page(R"(<meta itemprop="datePublished" content="2020-02-29">)").published == "2020-02-29");
  }
  SUBCASE("time datetime inside the article - not the one in the site header") {
    const HtmlDocument page =
        parse_html_page(R"(<header><time datetime="1999-01-01">old</time></header>)"
                        R"(<article><p>Posted <time datetime="2022-03-05T10:00">March 5</time></p></article>)");
    CHECK(page.published == "2022-03-05");
  }
  SUBCASE("the first valid source wins in the documented order") {
    const HtmlDocument page =
        parse_html_page(R"(<meta itemprop="datePublished" content="2020-01-01"><meta name="date" content="2020-02-30">)"
                        R"(<meta property="article:published_time" content="yesterday">)"
                        R"(<article><time datetime="2020-03-03"></time></article>)");
    CHECK(page.published == "2020-01-01");  // 30 February and "yesterday" are not dates
  }
  SUBCASE("none") {
    CHECK(parse_html_page(R"(<meta name="date" content="March 2022"><p>x</p>)").published.empty());
  }
}

TEST_CASE("html text: the canonical url from link rel or og:url") {
  CHECK(parse_html_page(R"(<link rel="alternate canonical" href=" https://ex.com/a ">)").canonical_url ==
        "https://ex.com/a");
  CHECK(parse_html_page(R"(<meta property="og:url" content="https://ex.com/og">)").canonical_url ==
        "https://ex.com/og");
  CHECK(parse_html_page(
            R"(<link rel="canonical" href="https://ex.com/link"><meta property="og:url" content="https://ex.com/og">)")
            .canonical_url == "https://ex.com/link");
  // A relative canonical resolves against <base href>; without one it is no URL at all.
  CHECK(parse_html_page(R"(<base href="https://ex.com/blog/"><link rel="canonical" href="post-1">)").canonical_url ==
        "https://ex.com/blog/post-1");
  CHECK(parse_html_page(R"(<link rel="canonical" href="/post-1">)").canonical_url.empty());
  CHECK(parse_html_page("<p>x</p>").canonical_url.empty());
}

TEST_CASE("html text: relative links resolve against base href or the canonical url") {
  SUBCASE("base href") {
    CHECK(
        markdown_of(R"(<base href="https://ex.com/blog/2022/"><link rel="canonical" href="https://other.org/">)"
                    R"(<p><a href="../about">About</a> <a href="/x?q=1#s">X</a> <a href="//cdn.ex.com/f">F</a></p>)") ==
        "[About](https://ex.com/blog/about) [X](https://ex.com/x?q=1#s) [F](https://cdn.ex.com/f)\n");
  }
  SUBCASE("a relative base href resolves against the canonical url") {
    CHECK(markdown_of(
              R"(<base href="/docs/"><link rel="canonical" href="https://ex.com/a/b"><p><a href="p">P</a></p>)") ==
          "[P](https://ex.com/docs/p)\n");
  }
  SUBCASE("canonical url") {
    CHECK(markdown_of(R"(<meta property="og:url" content="https://ex.com/posts/7"><p><a href="8">next</a></p>)") ==
          "[next](https://ex.com/posts/8)\n");
  }
  SUBCASE("no base: relative links are text") {
    CHECK(markdown_of(
              R"(<p>See <a href="/papers/1">the paper</a> and <a href="https://arxiv.org/abs/1">arXiv</a>.</p>)") ==
          "See the paper and [arXiv](https://arxiv.org/abs/1).\n");
  }
  SUBCASE("fragments - scripts - mail and empty hrefs are text and image-only links vanish") {
    CHECK(
        markdown_of(R"x(<base href="https://ex.com/"><p><a href="#fn1">[1]</a> <a href="javascript:void(0)">menu</a> )x"
                    R"(<a href="mailto:a@ex.com">mail</a> <a href="">self</a> <a>anchor</a> )"
                    R"(<a href="https://ex.com/big.png"><img src="small.png" alt="chart"></a> end</p>)") ==
        "[1] menu mail self anchor end\n");
  }
  SUBCASE("hrefs are trimmed and bytes a URL cannot hold are encoded") {
    CHECK(markdown_of("<p><a href=\"\n  https://ex.com/a b/论文(1 \">t</a></p>") ==
          "[t](https://ex.com/a%20b/%E8%AE%BA%E6%96%87%281)\n");
    CHECK(markdown_of(R"x(<p><a href="https://en.wikipedia.org/wiki/Transformer_(model)">w</a></p>)x") ==
          "[w](https://en.wikipedia.org/wiki/Transformer_(model))\n");
    CHECK(markdown_of(R"(<p><a href="HTTPS://ArXiv.org/abs/1">a</a></p>)") == "[a](https://ArXiv.org/abs/1)\n");
  }
}

TEST_CASE("html text: inline markup and white space") {
  CHECK(
      markdown_of("<p>A <b>bold</b> <strong> strong </strong>word, <i>it</i><em>em</em> and <code>x = 1</code>.</p>") ==
      "A **bold** **strong** word, *it**em* and `x = 1`.\n");
  CHECK(markdown_of("<p>  lots \n\t of   <span> space </span> here  </p>") == "lots of space here\n");
  CHECK(markdown_of("<p><b><b>nested</b> twice</b> <em><strong></strong></em>end</p>") == "**nested twice** end\n");
  CHECK(markdown_of("<p>line one<br>line two<br><br>new paragraph</p>") == "line one\nline two\n\nnew paragraph\n");
  CHECK(markdown_of("<p><b>bold<br>across</b></p>") == "**bold**\n**across**\n");
  CHECK(markdown_of("<p>a</p><hr><p>b</p><div></div><p></p><div><div><p>c</p></div></div>") == "a\n\n---\n\nb\n\nc\n");
  CHECK(markdown_of("<h2>Two</h2><h3>Three<br>lines</h3><h6>Six</h6>") == "## Two\n\n### Three lines\n\n###### Six\n");
  CHECK(markdown_of("<p>keep</p><p hidden>hidden</p><div aria-hidden=\"TRUE\">aria</div><img src=a.png alt=alt>") ==
        "keep\n");
}

TEST_CASE("html text: entities are decoded") {
  CHECK(markdown_of("<p>R&amp;D&nbsp;&nbsp;isn&rsquo;t &lt;hard&gt; &#8212; &eacute;t&eacute;</p>") ==
        "R&D isn’t <hard> — été\n");
  CHECK(parse_html_page("<title>Q&amp;A &rsquo;22</title>").title == "Q&A ’22");
}

TEST_CASE("html text: nested lists") {
  const std::string html = R"(
    <ul>
      <li>News <a href="https://ex.com/a">one</a>
        <ul>
          <li>detail a</li>
          <li>detail b
            <ol start="3"><li>third</li><li value="7">seventh</li><li>eighth</li></ol>
          </li>
        </ul>
        continued
      </li>
      <li><p>Item in</p><p>two paragraphs</p></li>
      <li></li>
      <li>last</li>
    </ul>
    <ol><li>first</li><li>second</li></ol>
    <p>After.</p>)";
  CHECK(markdown_of(html) ==
        "- News [one](https://ex.com/a)\n"
        "  - detail a\n"
        "  - detail b\n"
        "    3. third\n"
        "    7. seventh\n"
        "    8. eighth\n"
        "  continued\n"
        "- Item in two paragraphs\n"
        "- last\n"
        "\n"
        "1. first\n"
        "2. second\n"
        "\n"
        "After.\n");
}

TEST_CASE("html text: pre blocks are fenced and verbatim") {
  CHECK(markdown_of("<p>Code:</p><pre>\ndef f(x):\n    return x &lt; 2  # <b>bold</b> "
                    "ignored\n\n\nprint(f(1))\n</pre><p>Done.</p>") ==
        "Code:\n"
        "\n"
        "```\n"
        "def f(x):\n"
        "    return x < 2  # bold ignored\n"
        "\n"
        "\n"
        "print(f(1))\n"
        "```\n"
        "\n"
        "Done.\n");
  // A fence inside the code makes the fence longer; empty blocks write nothing.
  CHECK(markdown_of("<pre><code>```\nmd\n```</code></pre><pre>  \n </pre>") == "````\n```\nmd\n```\n````\n");
  CHECK(markdown_of("<blockquote><pre>a\n\nb</pre></blockquote>") == "> ```\n> a\n>\n> b\n> ```\n");
}

TEST_CASE("html text: tables and quotes") {
  CHECK(markdown_of("<table><caption>Results</caption><thead><tr><th>Model</th><th>Score</th></tr></thead>"
                    "<tbody><tr><td><a href=\"https://ex.com/m\">M1</a></td><td></td><td><p>91.2</p><p>%</p></td></tr>"
                    "<tr><td>M2</td><td>88</td></tr></tbody></table><p>After</p>") ==
        "Results\n\nModel | Score\n\n[M1](https://ex.com/m) | 91.2 %\n\nM2 | 88\n\nAfter\n");
  CHECK(markdown_of("<blockquote><p>One</p><p>Two<br>lines</p><blockquote>Inner</blockquote></blockquote><p>Out</p>") ==
        "> One\n>\n> Two\n> lines\n>\n> > Inner\n\nOut\n");
  CHECK(markdown_of("<dl><dt>Term</dt><dd>Definition</dd></dl>") == "Term\n\nDefinition\n");
}

TEST_CASE("html text: a page with neither article nor main converts its body") {
  const HtmlDocument page = parse_html_page(R"(<html><head><title>Digest</title></head><body>
      <header><a href="/">Home</a> <nav>Menu</nav></header>
      <div class="content"><h2>Papers</h2><p>Text <b>here</b>.</p></div>
      <aside>Popular posts</aside><form><input name=q><button>Search</button></form>
      <footer>Footer</footer></body></html>)");
  CHECK(page.title == "Digest");
  CHECK(page.markdown == "# Digest\n\n## Papers\n\nText **here**.\n");
}

TEST_CASE("html text: empty and text-free input") {
  for (const char* html : {"", "   \n\t", "<!-- only a comment -->", "<html><head></head><body></body></html>",
                           "<script>alert(1)</script>"}) {
    const HtmlDocument page = parse_html_page(html);
    CHECK(page.markdown.empty());
    CHECK(page.title.empty());
    CHECK(page.published.empty());
    CHECK(page.canonical_url.empty());
  }
  CHECK(markdown_of("plain text, no tags") == "plain text, no tags\n");
}

TEST_CASE("html text: malformed html is repaired as a browser would") {
  // Unclosed <p>, <li>, <td> and <b>; a stray end tag; an unterminated attribute and comment.
  CHECK(markdown_of("<article><p>one<p>two <b>bold<p>still bold</b> plain</span><ul><li>a<li>b</ul>"
                    "<table><tr><td>x<td>y</table><p title=\"oops>tail") ==
        "one\n\ntwo **bold**\n\n**still bold** plain\n\n- a\n- b\n\nx | y\n");
  CHECK(markdown_of("<p>before<!-- never closed <p>hidden") == "before\n");
  // <p> does not close <h2>: the paragraph is part of the heading's line.
  CHECK(markdown_of("<div><h2>Heading <p>in heading</h2>after</div>") == "## Heading in heading\n\nafter\n");
}

TEST_CASE("html text: 100000-deep nesting finishes without overflowing the stack") {
  constexpr int k_depth = 100'000;
  SUBCASE("inline elements") {
    // Spans, not <b> or <div>: gumbo's own tree building scans its formatting list for each <b>
    // and its open elements for each block start tag, so deep nests of those are quadratic there.
    std::string html = "<article><a href=\"https://ex.com/\"><em>";
    for (int i = 0; i < k_depth; ++i) html += "<span>";
    html += "deep";
    for (int i = 0; i < k_depth; ++i) html += "</span>";
    html += "</em></a>";
    html += "<p>after</p></article>";
    CHECK(markdown_of(html) == "[*deep*](https://ex.com/)\n\nafter\n");
  }
  SUBCASE("tables: 400000 tree levels - deeper than the cap only text") {
    std::string html = "<p>start</p>";
    for (int i = 0; i < k_depth; ++i) html += "<table><tr><td>";
    html += "deep";
    for (int i = 0; i < k_depth; ++i) html += "</td></tr></table>";
    html += "<p>after</p>";
    CHECK(markdown_of(html) == "start\n\ndeep\n\nafter\n");
  }
  SUBCASE("unclosed quotes and lists keep their prefixes bounded") {
    std::string quotes;
    std::string lists;
    for (int i = 0; i < 1'000; ++i) {
      quotes += "<blockquote>";
      lists += "<ul><li>";
    }
    CHECK(markdown_of(quotes + "deep") == "> > > > > > > > deep\n");
    CHECK(markdown_of(lists + "deep") == "              - deep\n");
  }
}

TEST_CASE("html text: invalid UTF-8 does not throw and yields valid UTF-8") {
  const std::string html = std::string("<title>T\xff</title><p>ok \xc3\x28 and \xe2\x82 end ") + '\0' +
                           "\x80\xbf</p><a href=\"https://ex.com/\xfe\">l\xed\xa0\x80</a>";
  HtmlDocument page;
  CHECK_NOTHROW(page = parse_html_page(html));
  CHECK(roundup::text::is_valid_utf8(page.markdown));
  CHECK(roundup::text::is_valid_utf8(page.title));
  CHECK(page.title == "T\xEF\xBF\xBD");
  CHECK(contains(page.markdown, "ok \xEF\xBF\xBD( and \xEF\xBF\xBD end"));
  CHECK(contains(page.markdown, "(https://ex.com/%EF%BF%BD)"));
}
