#include "retrieval/roundup_parser.h"

#include "text/unicode.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

using roundup::retrieval::Item;
using roundup::retrieval::ItemKind;
using roundup::retrieval::MonthSource;
using roundup::retrieval::parse_roundup;
using roundup::retrieval::Roundup;

namespace {

std::vector<const Item*> items_of(const Roundup& r, ItemKind kind) {
  std::vector<const Item*> out;
  for (const Item& item : r.items)
    if (item.kind == kind) out.push_back(&item);
  return out;
}

std::size_t count_of(const Roundup& r, ItemKind kind) {
  return items_of(r, kind).size();
}

const Item* find_title(const Roundup& r, const std::string& part) {
  for (const Item& item : r.items)
    if (item.title.find(part) != std::string::npos) return &item;
  return nullptr;
}

// Papers, news and tools: the items the parser recognised (passages keep the rest of the text).
std::size_t structured_count(const Roundup& r) {
  return static_cast<std::size_t>(
      std::count_if(r.items.begin(), r.items.end(), [](const Item& i) { return i.kind != ItemKind::passage; }));
}

// Whether a recognised item's summary holds part (unstructured passages are not asked about).
bool summaries_contain(const Roundup& r, const std::string& part) {
  return std::any_of(r.items.begin(), r.items.end(), [&part](const Item& i) {
    return i.kind != ItemKind::passage && i.summary.find(part) != std::string::npos;
  });
}

std::string read_roundup(const std::string& name) {
  std::ifstream in(std::string(ROUNDUP_SOURCE_DIR) + "/data/roundups/" + name, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

TEST_CASE("roundup parser: numbered titles with By lines - URL lines and bare author lines") {
  const std::string text =
      "0\n\n\n"
      "Deep learning picks for May 2020\n\n"
      "Acme Corp opened a new lab for robots. It hires 50 people.\n\n"
      "This post selects 3 papers on vision and language.\n\n"
      "1、Sparse Widgets for Everyone\n\n"
      "By Ada Lovelace, Alan Turing et al.\n\n"
      "Widgets are sparse.\n\n"
      "  • first point\n"
      "  • second point\n\n"
      "They scale well.\n\n"
      "2、Dense Gadgets | Website\n\n"
      "https://arxiv.org/abs/2005.01234v2\n\n"
      "Grace Hopper, Edsger Dijkstra and Barbara Liskov.\n\n"
      "Gadgets are dense.\n\n"
      "作者:Jane Doe\n\n"
      "“Deep learning picks”的评论:\n\n"
      "还没有评论\n";
  const Roundup r = parse_roundup("synthetic", text);
  CHECK(r.id == "synthetic");
  CHECK(r.title == "Deep learning picks for May 2020");
  CHECK(r.author == "Jane Doe");
  CHECK(r.month == "2020-05");
  CHECK(r.month_source == MonthSource::text);
  REQUIRE(count_of(r, ItemKind::paper) == 2);
  // The preamble paragraph about a lab is news; the "This post selects..." overview is not.
  REQUIRE(count_of(r, ItemKind::news) == 1);
  CHECK(items_of(r, ItemKind::news)[0]->title == "Acme Corp opened a new lab for robots");
  CHECK(structured_count(r) == 3);

  const Item* first = find_title(r, "Sparse Widgets");
  REQUIRE(first != nullptr);
  CHECK(first->title == "Sparse Widgets for Everyone");
  CHECK(first->authors == std::vector<std::string>{"Ada Lovelace", "Alan Turing"});
  CHECK(first->summary == "Widgets are sparse.\n\n- first point\n\n- second point\n\nThey scale well.");
  CHECK(first->url.empty());
  CHECK_FALSE(first->arxiv_id.has_value());

  const Item* second = find_title(r, "Dense Gadgets");
  REQUIRE(second != nullptr);
  CHECK(second->title == "Dense Gadgets");  // the lost link label "| Website" is dropped
  CHECK(second->url == "https://arxiv.org/abs/2005.01234v2");
  CHECK(second->arxiv_id == "2005.01234");
  CHECK(second->authors == std::vector<std::string>{"Grace Hopper", "Edsger Dijkstra", "Barbara Liskov"});
  CHECK(second->summary == "Gadgets are dense.");  // the author footer and comments are not summary
  for (std::size_t i = 0; i < r.items.size(); ++i) CHECK(r.items[i].ordinal == static_cast<int>(i) + 1);
}

TEST_CASE("roundup parser: numbered markdown headings with two links and extra links") {
  const std::string text =
      "# 机器学习趋势—2021 年 7 月\n\n"
      "> 原文：<https://example.com/trends-july-2021>\n\n"
      "## 月度精选:新闻和论文\n\n"
      "上个月发生了很多事。\n\n"
      "*   新 [Widget 芯片](https://example.com/chip) 发布。速度快了一倍。\n\n"
      "# 🔬研究\n\n"
      "我们挑选了 2 篇论文。\n\n"
      "## [1。稀疏部件:一个研究](https://arxiv.org/abs/2107.00001) | [项目页面](https://sparse.example.io)\n\n"
      "*张三、李四 等人*\n\n"
      "**❓为什么→** 因为稀疏很重要。\n\n"
      "**💡关键见解→** [旧方法](https://arxiv.org/abs/2001.00002)已经证明了这一点。\n\n"
      "![](img/a.png)\n\n"
      "来源:https://arxiv.org/pdf/2107.00001.pdf\n\n"
      "相关: [稠密部件综述](https://arxiv.org/abs/2106.00003)\n\n"
      "## [2。路径:系统](https://arxiv.org/abs/2107.00004) 和 "
      "[语言模型:扩展](https://example.com/lm.pdf)研究[代号](https://github.com/x/y)\n\n"
      "王五和赵六。\n\n"
      "**❓为什么→** 规模。\n\n"
      "*参考文献*\n\n"
      "*[1]《旧方法》某人 2020。*\n";
  const Roundup r = parse_roundup("md", text);
  CHECK(r.title == "机器学习趋势—2021 年 7 月");
  CHECK(r.source_url == "https://example.com/trends-july-2021");
  CHECK(r.month == "2021-07");
  REQUIRE(count_of(r, ItemKind::paper) == 2);
  REQUIRE(count_of(r, ItemKind::news) == 1);
  CHECK(items_of(r, ItemKind::news)[0]->title == "Widget 芯片");
  CHECK(items_of(r, ItemKind::news)[0]->url == "https://example.com/chip");

  const Item* first = find_title(r, "稀疏部件");
  REQUIRE(first != nullptr);
  CHECK(first->title == "稀疏部件:一个研究");
  CHECK(first->url == "https://arxiv.org/abs/2107.00001");
  CHECK(first->links == std::vector<std::string>{"https://arxiv.org/abs/2107.00001", "https://sparse.example.io"});
  CHECK(first->arxiv_id == "2107.00001");
  CHECK(first->authors == std::vector<std::string>{"张三", "李四"});
  CHECK(first->summary == "❓为什么→ 因为稀疏很重要。\n\n💡关键见解→ 旧方法已经证明了这一点。");

  const Item* second = find_title(r, "路径");
  REQUIRE(second != nullptr);
  CHECK(second->title == "路径:系统 和 语言模型:扩展研究");
  CHECK(second->links.size() == 3);
  CHECK(second->url == "https://arxiv.org/abs/2107.00004");
  CHECK(second->authors == std::vector<std::string>{"王五", "赵六"});

  // Mentioned papers become listed items; the "相关:" one does not leak into the featured summary.
  const Item* related = find_title(r, "稠密部件综述");
  REQUIRE(related != nullptr);
  CHECK(related->kind == ItemKind::listed_paper);
  CHECK(related->arxiv_id == "2106.00003");
  const Item* old_method = find_title(r, "旧方法");
  REQUIRE(old_method != nullptr);
  CHECK(old_method->kind == ItemKind::listed_paper);
  CHECK(old_method->summary == "💡关键见解→ 旧方法已经证明了这一点。");
  CHECK(count_of(r, ItemKind::listed_paper) == 2);  // references are not papers
  CHECK_FALSE(summaries_contain(r, "某人"));
}

TEST_CASE("roundup parser: plain headings with *作者* lines - news - code and mention bullets") {
  const std::string text =
      "# arXiv 精选—Nov 2021 阅读\n\n"
      "## ML 论文、新闻和代码月刊\n\n"
      "这个月很忙碌,很多事情发生了。\n\n"
      "# 新闻\n\n"
      "让我们从热点新闻开始:\n\n"
      "*   [大会](https://conf.example.org) 将于 11 月举行。\n"
      "*   某公司发布了新模型,参数很多。\n\n"
      "# 密码\n\n"
      "*   试试 [Scenic](https://github.com/google-research/scenic):一个代码库。\n\n"
      "# 🔬研究\n\n"
      "## [递归总结书籍](https://arxiv.org/abs/2109.10862)\n\n"
      "*作者 OpenAI 等人*\n\n"
      "**❓Why →** 长文档很难。\n\n"
      "## [多任务提示训练](https://arxiv.org/abs/2110.08207)\n\n"
      "*由小刘、纪凯旋和傅毅成等创作*\n\n"
      "摘要很好。\n\n"
      "在伦理方面,我们也看到了一些论文\n\n"
      "*   [德尔福:机器伦理](https://arxiv.org/abs/2110.07574)是一次勇敢的尝试。\n\n"
      "在检索主题上,[对抗性检索器](https://arxiv.org/abs/2110.03611)是一种新方法。\n\n"
      "我们的月度评选到此结束。\n";
  const Roundup r = parse_roundup("plain", text);
  CHECK(r.month == "2021-11");
  REQUIRE(count_of(r, ItemKind::paper) == 2);
  REQUIRE(count_of(r, ItemKind::news) == 2);
  REQUIRE(count_of(r, ItemKind::tool) == 1);
  CHECK(items_of(r, ItemKind::news)[0]->title == "大会");
  CHECK(items_of(r, ItemKind::news)[1]->title == "某公司发布了新模型");
  CHECK(items_of(r, ItemKind::news)[1]->summary == "某公司发布了新模型,参数很多。");
  CHECK(items_of(r, ItemKind::tool)[0]->title == "Scenic");
  CHECK(items_of(r, ItemKind::tool)[0]->url == "https://github.com/google-research/scenic");

  const Item* books = find_title(r, "递归总结书籍");
  REQUIRE(books != nullptr);
  CHECK(books->authors == std::vector<std::string>{"OpenAI"});
  const Item* prompts = find_title(r, "多任务提示训练");
  REQUIRE(prompts != nullptr);
  CHECK(prompts->authors == std::vector<std::string>{"小刘", "纪凯旋", "傅毅成"});
  // The lead-in line, the mention paragraphs and the sign-off are not the featured summary.
  CHECK(prompts->summary == "摘要很好。");

  const Item* delphi = find_title(r, "德尔福");
  REQUIRE(delphi != nullptr);
  CHECK(delphi->kind == ItemKind::listed_paper);
  CHECK(delphi->url == "https://arxiv.org/abs/2110.07574");
  CHECK(delphi->summary == "德尔福:机器伦理是一次勇敢的尝试。");
  const Item* retriever = find_title(r, "对抗性检索器");
  REQUIRE(retriever != nullptr);
  CHECK(retriever->arxiv_id == "2110.03611");
  CHECK(count_of(r, ItemKind::listed_paper) == 2);
  // Intro paragraphs of a digest with an explicit news section are not news.
  CHECK_FALSE(summaries_contain(r, "这个月很忙碌"));
}

TEST_CASE("roundup parser: 论文 N blocks with a table of contents") {
  const std::string text =
      "3 Papers | 本周的大模型\n"
      "本周论文包括一个新模型等研究。\n"
      "Sparse Widgets\n"
      "Dense Gadgets\n"
      "论文 1:Sparse Widgets\n"
      "作者:Ada Lovelace 、 Alan Turing 等\n"
      "论文链接:https://arxiv.org/pdf/2203.15556.pdf\n"
      "摘要:Widgets are sparse.\n"
      "They scale.\n"
      "推荐:稀疏的部件。\n"
      "论文 2:Dense Gadgets\n"
      "作者:Grace Hopper\n"
      "论文链接:https://example.org/gadgets\n"
      "摘要:Gadgets are dense.\n";
  const Roundup r = parse_roundup("blocks", text);
  CHECK(r.title == "3 Papers | 本周的大模型");
  REQUIRE(structured_count(r) == 2);  // the table of contents creates no items
  const Item& first = r.items[0];
  CHECK(first.kind == ItemKind::paper);
  CHECK(first.title == "Sparse Widgets");
  CHECK(first.authors == std::vector<std::string>{"Ada Lovelace", "Alan Turing"});
  CHECK(first.url == "https://arxiv.org/pdf/2203.15556.pdf");
  CHECK(first.arxiv_id == "2203.15556");
  CHECK(first.summary == "Widgets are sparse.\n\nThey scale.\n\n推荐:稀疏的部件。");
  const Item& second = r.items[1];
  CHECK(second.title == "Dense Gadgets");
  CHECK(second.authors == std::vector<std::string>{"Grace Hopper"});
  CHECK(second.url == "https://example.org/gadgets");
  CHECK_FALSE(second.arxiv_id.has_value());
  CHECK(r.author.empty());  // per-paper "作者:" lines are not the digest's author
  // No month in the text: the featured papers' arXiv ids give it.
  CHECK(r.month == "2022-03");
  CHECK(r.month_source == MonthSource::arxiv_ids);
}

TEST_CASE(
    "roundup parser: a numbered contents list naming papers by the head of their titles, a section named in bold") {
  const std::string text =
      "# 本月必读的 2 篇论文\n"
      "\n"
      "**本期目录**\n"
      "\n"
      "1. Widgets\n"
      "2. Gadget networks at scale\n"
      "\n"
      "---\n"
      "\n"
      "**论文标题：**Widgets: Sparse Parts for Dense Machines\n"
      "**作者：**Ada Lovelace\n"
      "**论文地址：**https://arxiv.org/abs/2312.00001\n"
      "**推荐理由：**部件是稀疏的。\n"
      "\n"
      "**论文标题：**Gadget Networks at Scale: A Study\n"
      "**作者：**Grace Hopper\n"
      "**论文地址：**https://arxiv.org/abs/2312.00002\n"
      "**推荐理由：**小工具是稠密的。\n"
      "\n"
      "**开源项目速递**\n"
      "\n"
      "- **Sprocket**：一个开源的推理框架。项目地址：https://github.com/example/sprocket\n";
  const Roundup r = parse_roundup("contents", text);
  REQUIRE(structured_count(r) == 3);  // the contents entries are neither news nor papers
  CHECK(r.items[0].title == "Widgets: Sparse Parts for Dense Machines");
  CHECK(r.items[1].title == "Gadget Networks at Scale: A Study");
  CHECK(r.items[2].kind == ItemKind::tool);
  CHECK(r.items[2].title == "Sprocket");
}

TEST_CASE("roundup parser: title lists with (from ...) authors") {
  const std::string text =
      "Weekly list\n"
      "本周 3 篇 NLP 精选论文是:\n"
      "1. Pareto Clustering with Bottlenecks. (from Max Tegmark)\n"
      "2. Chordal Sparsity for Networks. (from George J. Pappas, Rajeev Alur)\n"
      "1. Complex-Valued Autoencoders. (from Max Welling)\n";
  const Roundup r = parse_roundup("list", text);
  REQUIRE(structured_count(r) == 3);
  for (const Item& item : r.items) CHECK(item.kind == ItemKind::listed_paper);
  CHECK(r.items[0].title == "Pareto Clustering with Bottlenecks");
  CHECK(r.items[0].authors == std::vector<std::string>{"Max Tegmark"});
  CHECK(r.items[1].authors == std::vector<std::string>{"George J. Pappas", "Rajeev Alur"});
  CHECK(r.items[2].title == "Complex-Valued Autoencoders");
  CHECK(r.items[2].ordinal == 3);
  CHECK(r.month.empty());
  CHECK(r.month_source == MonthSource::unknown);
}

TEST_CASE("roundup parser: page furniture produces no items and stays out of summaries") {
  const std::string text =
      "论文 1:Sparse Widgets\n"
      "作者:Ada Lovelace\n"
      "论文链接:https://arxiv.org/abs/2203.00001\n"
      "摘要:Widgets are sparse.\n"
      "图片由 Someone 提供。\n"
      "来源:https://arxiv.org/pdf/2203.00001.pdf\n"
      "0\n"
      "© THE END\n"
      "转载请联系本公众号获得授权\n"
      "投稿或寻求报道:content@example.com\n"
      "关注公众号:某某了解更多\n"
      "[广告]赞助链接:\n"
      "排行榜:https://ads.example.com/\n"
      "- 1 某条热搜新闻 7993401\n"
      "- 2 另一条热搜 7932363\n"
      "作者:Sergi Castella i Sapé\n"
      "“某文章”的评论:\n"
      "还没有评论\n";
  const Roundup r = parse_roundup("furniture", text);
  REQUIRE(structured_count(r) == 1);
  CHECK(r.items[0].summary == "Widgets are sparse.");
  CHECK(r.author == "Sergi Castella i Sapé");
  for (const char* leak : {"热搜", "转载", "广告", "评论", "THE END", "提供", "来源"})
    CHECK_FALSE(summaries_contain(r, leak));
}

TEST_CASE("roundup parser: month detection") {
  SUBCASE("Chinese with spaces, from the title") {
    CHECK(parse_roundup("a", "2022 年 2 月 arXiv 论文推荐\n").month == "2022-02");
  }
  SUBCASE("Chinese without spaces") {
    const Roundup r = parse_roundup("b", "2023年2月的十篇深度学习论文推荐\n");
    CHECK(r.month == "2023-02");
    CHECK(r.month_source == MonthSource::text);
  }
  SUBCASE("English month names and ISO, within the first lines") {
    CHECK(parse_roundup("c", "Best of arXiv\n\nReadings for November 2021\n").month == "2021-11");
    CHECK(parse_roundup("d", "Best of arXiv — Nov. 2021\n").month == "2021-11");
    CHECK(parse_roundup("e", "Digest 2021-09\n").month == "2021-09");
  }
  SUBCASE("URLs do not count") {
    const Roundup r = parse_roundup("f", "Digest\n\n> 原文：<https://x.example/readings-november-2021>\n");
    CHECK(r.month.empty());
    CHECK(r.source_url == "https://x.example/readings-november-2021");
  }
  SUBCASE("arXiv fallback uses the latest featured id, not mentions") {
    const std::string text =
        "Digest\n\n"
        "## [A](https://arxiv.org/abs/2110.00001)\n\n*Ann Lee 等人*\n\nText.\n\n"
        "相关: [Newer](https://arxiv.org/abs/2301.00001)\n\n"
        "## [B](https://arxiv.org/pdf/2111.00002v3.pdf)\n\n*Bob Ray 等人*\n\nText.\n";
    const Roundup r = parse_roundup("g", text);
    CHECK(r.month == "2021-11");
    CHECK(r.month_source == MonthSource::arxiv_ids);
  }
  SUBCASE("unknown") {
    const Roundup r = parse_roundup("h", "Digest\n\n1、A Paper\n\nBy Ann Lee et al.\n\nText.\n");
    CHECK(structured_count(r) == 1);
    CHECK(r.month.empty());
    CHECK(r.month_source == MonthSource::unknown);
  }
  SUBCASE("a month deep inside a summary is not the digest's month") {
    std::string text = "Digest\n";
    for (int i = 0; i < 25; ++i) text += "Line " + std::to_string(i) + ".\n";
    text += "在 2020 年 11 月的一次会议上。\n";
    CHECK(parse_roundup("i", text).month.empty());
  }
}

TEST_CASE("roundup parser: full-width punctuation and digits are NFKC-normalised") {
  const std::string text =
      "论文 １：Ｓｐａｒｓｅ Widgets\n"
      "作者：Ada Lovelace，Alan Turing 等\n"
      "论文链接：https://arxiv.org/abs/2203.00001\n"
      "摘要：部件是稀疏的。\n"
      "本周 2 篇 CV 精选论文是：\n"
      "１．Dense Gadgets．（from Grace Hopper，Edsger Dijkstra）\n";
  const Roundup r = parse_roundup("fw", text);
  REQUIRE(structured_count(r) == 2);
  CHECK(r.items[0].kind == ItemKind::paper);
  CHECK(r.items[0].title == "Sparse Widgets");
  CHECK(r.items[0].authors == std::vector<std::string>{"Ada Lovelace", "Alan Turing"});
  CHECK(r.items[0].arxiv_id == "2203.00001");
  CHECK(r.items[0].summary == "部件是稀疏的。");
  CHECK(r.items[1].kind == ItemKind::listed_paper);
  CHECK(r.items[1].title == "Dense Gadgets");
  CHECK(r.items[1].authors == std::vector<std::string>{"Grace Hopper", "Edsger Dijkstra"});
}

TEST_CASE("roundup parser: duplicates merge and odd input does not throw") {
  const std::string text =
      "## [Sparse Widgets](https://arxiv.org/abs/2203.00001)\n\n*Ada Lovelace 等人*\n\nText.\n\n"
      "相关: [Sparse  widgets!](https://arxiv.org/abs/2203.00009)\n";
  const Roundup r = parse_roundup("dup", text);
  REQUIRE(structured_count(r) == 1);
  CHECK(r.items[0].kind == ItemKind::paper);
  CHECK(r.items[0].links.size() == 2);

  CHECK(parse_roundup("empty", "").items.empty());
  CHECK(structured_count(parse_roundup("junk", "[[[[((((]]]]\n```\nunclosed fence\n## [](\n1、\n")) == 0);
}

TEST_CASE("roundup parser: the real roundups") {
  SUBCASE("000: numbered titles, By lines, preamble news") {
    const Roundup r = parse_roundup("000", read_roundup("000_23e3586c227f749e.txt"));
    CHECK(r.title == "2022 年 2 月 arXiv 论文推荐");
    CHECK(r.month == "2022-02");
    CHECK(r.author == "Sergi Castella i Sapé");
    CHECK(count_of(r, ItemKind::paper) == 10);
    CHECK(count_of(r, ItemKind::news) == 3);
    CHECK(structured_count(r) == 13);
    const auto papers = items_of(r, ItemKind::paper);
    REQUIRE(papers.size() == 10);
    CHECK(papers[0]->title == "Automated Reinforcement Learning (AutoRL): A Survey and Open Problems");
    CHECK(papers[0]->authors == std::vector<std::string>{"Jack Parker-Holder", "Raghu Rajan", "Xingyou Song"});
    CHECK(papers[1]->authors.size() == 4);
    CHECK(papers[9]->title ==
          "DeepSpeed-MoE: Advancing Mixture-of-Experts Inference and Training to Power Next-Generation AI Scale");
    CHECK(find_title(r, "FFCV") != nullptr);
    CHECK_FALSE(summaries_contain(r, "本篇文章选择了"));
    CHECK_FALSE(summaries_contain(r, "还没有评论"));
  }
  SUBCASE("001: numbered markdown headings") {
    const Roundup r = parse_roundup("001", read_roundup("001_1dbaee74712196a5.txt"));
    CHECK(r.month == "2022-04");
    CHECK(r.source_url.starts_with("https://pub.towardsai.net/trends-ai-april-2022"));
    CHECK(count_of(r, ItemKind::paper) == 10);
    CHECK(count_of(r, ItemKind::news) == 4);
    CHECK(count_of(r, ItemKind::listed_paper) == 5);
    const Item* pathways = find_title(r, "路径:ML");
    REQUIRE(pathways != nullptr);
    CHECK(pathways->title == "路径:ML 和 PaLM 的异步分布式数据流:用路径扩展语言建模");
    CHECK(pathways->links.size() == 2);
    const Item* star = find_title(r, "明星");
    REQUIRE(star != nullptr);
    CHECK(star->authors.size() == 3);
    const Item* kubric = find_title(r, "Kubric");
    REQUIRE(kubric != nullptr);
    CHECK(kubric->title == "Kubric:一个可扩展的数据集生成器👾");
    CHECK(kubric->arxiv_id == "2203.03570");
    const Item* delta = find_title(r, "Delta Tuning");
    REQUIRE(delta != nullptr);
    CHECK(delta->kind == ItemKind::listed_paper);
    CHECK(delta->arxiv_id == "2203.06904");
    CHECK_FALSE(summaries_contain(r, "刘韩啸"));  // the reference list
  }
  SUBCASE("002: plain headings, news and code sections") {
    const Roundup r = parse_roundup("002", read_roundup("002_381a2dde42fdada2.txt"));
    CHECK(r.month == "2021-11");
    CHECK(count_of(r, ItemKind::paper) == 7);
    CHECK(count_of(r, ItemKind::news) == 4);
    CHECK(count_of(r, ItemKind::tool) == 3);
    CHECK(count_of(r, ItemKind::listed_paper) == 3);
    for (const char* mention : {"德尔福", "语言技术", "对抗性检索器"}) {
      const Item* item = find_title(r, mention);
      REQUIRE(item != nullptr);
      CHECK(item->kind == ItemKind::listed_paper);
      CHECK(item->arxiv_id.has_value());
    }
    const Item* books = find_title(r, "递归总结");
    REQUIRE(books != nullptr);
    CHECK(books->arxiv_id == "2109.10862");
    const Item* adop = find_title(r, "ADOP");
    REQUIRE(adop != nullptr);
    CHECK(adop->summary.find("德尔福") == std::string::npos);
    CHECK(adop->summary.find("到此结束") == std::string::npos);
  }
  SUBCASE("003: 论文 N blocks, title lists, ad footer") {
    const Roundup r = parse_roundup("003", read_roundup("003_a3808abbd3678fc4.txt"));
    CHECK(count_of(r, ItemKind::paper) == 7);
    CHECK(count_of(r, ItemKind::listed_paper) == 30);
    CHECK(structured_count(r) == 37);
    CHECK(r.month == "2022-03");
    CHECK(r.month_source == MonthSource::arxiv_ids);
    const auto papers = items_of(r, ItemKind::paper);
    CHECK(papers[0]->title == "Training Compute-Optimal Large Language Models");
    CHECK(papers[0]->arxiv_id == "2203.15556");
    CHECK(papers[0]->summary.find("推荐:DeepMind") != std::string::npos);
    CHECK(papers[0]->summary.find("论文 2") == std::string::npos);
    CHECK(papers[3]->authors == std::vector<std::string>{"CDF COLLABORATION", "T. AALTONEN"});
    const Item* socratic = find_title(r, "Socratic Models");
    REQUIRE(socratic != nullptr);
    CHECK(socratic->authors == std::vector<std::string>{"Vikas Sindhwani", "Vincent Vanhoucke"});
    CHECK_FALSE(summaries_contain(r, "精选论文是"));
    CHECK_FALSE(summaries_contain(r, "7993401"));
    CHECK(find_title(r, "准确把握") == nullptr);
  }
  SUBCASE("004: numbered titles with URL lines and bare author lines") {
    const Roundup r = parse_roundup("004", read_roundup("004_4d998eb36a89468e.txt"));
    CHECK(r.month == "2023-02");
    CHECK(r.author == "Sergi Castella i Sapé");
    CHECK(count_of(r, ItemKind::paper) == 10);
    CHECK(structured_count(r) == 10);
    const auto papers = items_of(r, ItemKind::paper);
    REQUIRE(papers.size() == 10);
    CHECK(papers[0]->arxiv_id == "2301.11325");
    CHECK(papers[1]->title == "A Watermark for Large Language Models");
    CHECK(papers[1]->authors.size() == 6);
    CHECK(papers[1]->authors.front() == "John Kirchenbauer");
    CHECK(papers[2]->arxiv_id == "2212.14024");
    CHECK(papers[8]->url == "https://make-a-video3d.github.io/");
    CHECK_FALSE(papers[8]->arxiv_id.has_value());
    CHECK_FALSE(summaries_contain(r, "SoundStream: An End-to-End"));  // references
  }
}

TEST_CASE("roundup parser: mutated real files never throw and yield well-formed items") {
  // Deterministic damage to the bundled roundups: truncation, byte flips, stray markdown.
  const std::vector<std::string> names = {"000_23e3586c227f749e.txt", "001_1dbaee74712196a5.txt",
                                          "002_381a2dde42fdada2.txt", "003_a3808abbd3678fc4.txt",
                                          "004_4d998eb36a89468e.txt"};
  std::uint64_t state = 42;
  const auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  };
  const std::vector<std::string> inserts = {"\n## [", "](", "\n*", "\n1、", "\n论文 3:", "\n© THE END\n", "\n- ", "**"};
  int parsed = 0;
  for (const std::string& name : names) {
    std::ifstream in(std::string(ROUNDUP_SOURCE_DIR) + "/data/roundups/" + name, std::ios::binary);
    const std::string original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE_FALSE(original.empty());
    const std::u32string cps = roundup::text::decode_utf8(original);
    for (int round = 0; round < 40; ++round) {
      // Mutate code points, not bytes: the loader rejects invalid UTF-8 before parsing.
      std::u32string m = cps;
      switch (round % 3) {
        case 0: m.resize(next() % m.size()); break;
        case 1:
          for (int i = 0; i < 8; ++i)
            m[next() % m.size()] = static_cast<char32_t>(next() % 0x80 ? next() % 0x80 : 0x4E00);
          break;
        default:
          for (int i = 0; i < 8; ++i)
            m.insert(next() % m.size(), roundup::text::decode_utf8(inserts[next() % inserts.size()]));
      }
      const std::string text = roundup::text::encode_utf8(m);
      roundup::retrieval::Roundup r;
      CHECK_NOTHROW(r = roundup::retrieval::parse_roundup(name, text));
      for (const auto& item : r.items) CHECK_FALSE(item.title.empty());
      ++parsed;
    }
  }
  CHECK(parsed > 100);
}

TEST_CASE("roundup parser: a 4 MB roundup that is one long line neither crashes nor stalls it") {
  // Roundup files are semi-trusted (anyone who can write corpus_dir); the loader's limit is
  // 4 MiB a file. Each line below is one long line of a shape that reaches a different matcher:
  // arXiv ids in links and text, month detection, numbered titles. (Brackets are left out: link
  // scanning is bounded by k_max_bracket_span, linear but slow, about 5 s for 4 MB of "[[[".)
  const std::string original = read_roundup("000_23e3586c227f749e.txt");
  const Roundup baseline = parse_roundup("000", original);
  REQUIRE(count_of(baseline, ItemKind::paper) == 10);
  const std::size_t n = (4u << 20) - original.size() - 64;
  const auto times = [](std::string_view unit, std::size_t count) {
    std::string out;
    out.reserve(unit.size() * count);
    for (std::size_t i = 0; i < count; ++i) out += unit;
    return out;
  };
  const std::vector<std::pair<std::string, std::string>> lines = {
      {"arXiv: and spaces", "[x](arxiv:" + std::string(n, ' ') + "2203.15556)"},
      {"an arXiv link with a long tail", "[T](https://arxiv.org/abs/2203.15556" + std::string(n, 'a') + ")"},
      {"arXiv ids repeated", times("arxiv: 2203.1 ", n / 14)},
      {"a month with spaces", "2023年" + std::string(n, ' ') + "2月"},
      {"a numbered title", "1、" + times("abc ", n / 4)},
  };
  for (const auto& [shape, line] : lines) {
    CAPTURE(shape);
    for (const std::string& text : {line, original + "\n\n" + line + "\n"}) {
      REQUIRE(text.size() <= (4u << 20));
      Roundup r;
      CHECK_NOTHROW(r = parse_roundup("000", text));
      if (text.size() > line.size()) {
        // The real roundup around the line still parses: its ten featured papers are all there.
        for (const Item* paper : items_of(baseline, ItemKind::paper))
          CHECK_MESSAGE(find_title(r, paper->title) != nullptr, paper->title);
      }
    }
  }
}

// The default corpus is data: the five bundled files, byte for byte as ../shared/roundups has them
// (when it is beside the project). A fuzzer run pointed at data/roundups once left its inputs
// there, and the bot indexed them as roundups.
TEST_CASE("corpus: data/roundups is exactly the bundled corpus") {
  namespace fs = std::filesystem;
  const fs::path corpus = fs::path(ROUNDUP_SOURCE_DIR) / "data" / "roundups";
  const fs::path shared = fs::path(ROUNDUP_SOURCE_DIR) / ".." / "shared" / "roundups";
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(corpus)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"000_23e3586c227f749e.txt", "001_1dbaee74712196a5.txt",
                                          "002_381a2dde42fdada2.txt", "003_a3808abbd3678fc4.txt",
                                          "004_4d998eb36a89468e.txt"});
  if (!fs::is_directory(shared)) return;
  const auto read = [](const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  for (const auto& name : names) {
    INFO(name);
    CHECK(read(corpus / name) == read(shared / name));
  }
}
