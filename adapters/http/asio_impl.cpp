// The one translation unit that compiles Asio and Beast. Every other TU that
// uses them must be built with BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION so the heavy implementation is compiled
// once here instead of in every file that includes a Beast header.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
