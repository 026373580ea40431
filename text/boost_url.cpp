// Boost.URL is not header-only and Debian 12 ships no libboost_url, so its sources are compiled
// once, here, into roundup_boost_url, the library every user of Boost.URL links (the HTTP
// client's URL parser, the Slack form decoder, the HTML link reader). Compiling src.hpp in more
// than one of them would define its symbols twice.
#include <boost/url/src.hpp>
