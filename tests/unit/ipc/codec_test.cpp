// SPDX-License-Identifier: Apache-2.0
#include "vigil/ipc/codec.hpp"

#include "vigil/term/text.hpp"

#include "term_generator.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::ipc {
namespace {

using namespace std::literals;

/// A frame around `body`, with a correct header.
std::string frame(std::string_view body) {
  std::string out(1, static_cast<char>(wire_version));
  for (int i = 0; i < 4; ++i) {
    out += static_cast<char>((body.size() >> (8 * i)) & 0xff);
  }
  out += body;
  return out;
}

/// Nests `inner` in `depth` single-element lists.
term nest(int depth, term inner = term(1)) {
  for (int i = 0; i < depth; ++i) {
    inner = term::list({inner});
  }
  return inner;
}

std::vector<term> samples() {
  using namespace literals;
  return {term(0),
          term(-1),
          term(std::numeric_limits<std::int64_t>::min()),
          term(1.5),
          term("ok"_a),
          term("a string longer than the inline limit"),
          term(pid{0, 74, 0}),
          term(reference{1, 2, 3, 4}),
          make_tuple("ok"_a, term::list({1, 2, 3})),
          term::map({{"key"_a, 1}, {"k", term::tuple({})}})};
}

void expect_error(const result<term>& r, errc code, std::string_view context_part = {}) {
  ASSERT_FALSE(r.has_value()) << "decoded " << *r;
  EXPECT_EQ(r.error().code, make_error_code(code)) << r.error().context;
  EXPECT_NE(r.error().context.find(context_part), std::string::npos) << r.error().context;
}

TEST(CodecRoundTrip, PreservesGeneratedTerms) {
  for (std::uint64_t seed = 0; seed < 2500; ++seed) {
    term t = test::term_generator(seed).next();
    auto bytes = encode(t);
    auto back = decode(bytes);
    ASSERT_TRUE(back.has_value()) << "seed " << seed << ": " << back.error().context;
    ASSERT_EQ(*back, t) << "seed " << seed;
    ASSERT_EQ(encoded_size(t), bytes.size()) << "seed " << seed;
  }
}

TEST(CodecRoundTrip, KeepsFloatBitsIncludingNan) {
  for (double d : {0.0, -0.0, std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN(), std::bit_cast<double>(~0ULL)}) {
    auto back = decode(encode(term(d)));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(std::bit_cast<std::uint64_t>(back->as_float()), std::bit_cast<std::uint64_t>(d));
  }
}

TEST(CodecEncode, WritesTheDocumentedBytes) {
  using namespace literals;
  EXPECT_EQ(encode(term(1)), frame("\x01\x02"));
  EXPECT_EQ(encode(term(-1)), frame("\x01\x01"));
  EXPECT_EQ(encode(term(300)), frame("\x01\xd8\x04"));
  EXPECT_EQ(encode(term(1.5)), frame("\x02\x00\x00\x00\x00\x00\x00\xf8\x3f"s));
  EXPECT_EQ(encode(term("ok"_a)), frame("\x03\x02ok"));
  EXPECT_EQ(encode(term("hi")), frame("\x04\x02hi"));
  EXPECT_EQ(encode(make_tuple("ok"_a, "hi")), frame("\x07\x02\x03\x02ok\x04\x02hi"));
  EXPECT_EQ(encode(term(pid{0, 74, 0})), frame("\x05\x00\x4a\x00"s));
  EXPECT_EQ(encode(term(reference{1, 2, 3, 128})), frame("\x06\x01\x02\x03\x80\x01"));
  EXPECT_EQ(encode(term::list({})), frame("\x08\x00"s));
  EXPECT_EQ(encode(term::map({{2, "b"_a}, {1, "a"_a}})),
            frame("\x09\x02\x01\x02\x03\x01\x61\x01\x04\x03\x01\x62"));
}

TEST(CodecEncode, AppendsOneFramePerCall) {
  std::string out = "prefix";
  encode(term(1), out);
  encode(term(2), out);
  EXPECT_EQ(out, "prefix" + frame("\x01\x02") + frame("\x01\x04"));
}

TEST(CodecEncode, EncodesIntoACallerBuffer) {
  term t = samples().back();
  std::vector<std::byte> buffer(encoded_size(t) + 3);
  auto n = encode_into(t, buffer);
  EXPECT_EQ(n, buffer.size() - 3);
  auto back = decode(std::span<const std::byte>(buffer).first(n));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, t);
}

TEST(CodecEncode, EncodesTermsDeeperThanTheDecoderAccepts) {
  term deep = nest(5000);
  auto bytes = encode(deep);
  EXPECT_EQ(bytes.size(), header_size + std::size_t{2 * 5000 + 2});
  expect_error(decode(bytes), errc::limit_exceeded, "max_depth 64");
  auto back = decode(bytes, {.max_depth = 5000});
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, deep);
}

TEST(CodecDecode, RejectsEveryTruncation) {
  for (const term& t : samples()) {
    auto bytes = encode(t);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      auto cut = std::string_view(bytes).substr(0, n);
      expect_error(decode(cut), errc::decode_error, "truncated");
      if (n > header_size) { // the same prefix with a header that agrees with it
        expect_error(decode(frame(cut.substr(header_size))), errc::decode_error);
      }
    }
  }
}

/// Whether `bytes` decode; a term that does must survive another round trip unchanged.
bool decodes_stably(std::string_view bytes) {
  auto r = decode(bytes);
  if (!r) {
    return false;
  }
  auto again = decode(encode(*r));
  EXPECT_TRUE(again.has_value());
  EXPECT_TRUE(again.has_value() && *again == *r) << *r;
  return true;
}

TEST(CodecDecode, SurvivesSingleByteCorruption) {
  std::mt19937_64 rng(42);
  int rejected = 0;
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    auto bytes = encode(test::term_generator(seed).next());
    for (int i = 0; i < 40; ++i) {
      auto corrupt = bytes;
      corrupt[rng() % corrupt.size()] = static_cast<char>(rng());
      rejected += decodes_stably(corrupt) ? 0 : 1;
    }
  }
  EXPECT_GT(rejected, 1000);
}

TEST(CodecDecode, RejectsABodyOverMaxFrameBytes) {
  std::string header = "\x01\x01\x00\x00\x01"s; // 16 MiB + 1
  expect_error(decode(header), errc::limit_exceeded, "exceeds 16777216");
  auto size = frame_size(std::as_bytes(std::span(header.data(), header.size())));
  ASSERT_FALSE(size.has_value());
  EXPECT_EQ(size.error().code, make_error_code(errc::limit_exceeded));
  expect_error(decode(frame("\x04\x03"
                            "abc"),
                      {.max_frame_bytes = 4}),
               errc::limit_exceeded);
  expect_error(decode("\x01\xff\xff\xff\xff"s), errc::limit_exceeded);
}

TEST(CodecDecode, RejectsNestingBeyondMaxDepth) {
  EXPECT_TRUE(decode(encode(nest(64))).has_value());
  expect_error(decode(encode(nest(65))), errc::limit_exceeded, "max_depth");
  expect_error(decode(encode(nest(64, term::tuple({})))), errc::limit_exceeded);
  expect_error(decode(encode(nest(3)), {.max_depth = 2}), errc::limit_exceeded);
  EXPECT_TRUE(decode(encode(term(1)), {.max_depth = 0}).has_value());
}

TEST(CodecDecode, RejectsCountsTheBodyCannotHold) {
  // A list of 2^32-1, a tuple of 2^63 and a map of 2 entries, with a few bytes behind them.
  expect_error(decode(frame("\x08\xff\xff\xff\xff\x0f\x01\x02")), errc::decode_error,
               "offset 5: count 4294967295 cannot fit in the 2 bytes left");
  expect_error(decode(frame("\x07\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01")), errc::decode_error,
               "cannot fit");
  expect_error(decode(frame("\x09\x02\x01\x02\x01\x04")), errc::decode_error, "cannot fit");
  expect_error(decode(frame("\x04\xff\xff\xff\xff\x0f"
                            "abc")),
               errc::decode_error, "offset 6: truncated string (needs 4294967295 bytes, 3 left)");
}

TEST(CodecDecode, RejectsTrailingBytes) {
  expect_error(decode(encode(term(1)) + "x"), errc::decode_error,
               "offset 7: 1 trailing bytes after the frame");
  expect_error(decode(frame("\x01\x02\x01\x04")), errc::decode_error,
               "offset 7: 2 trailing bytes after the term");
}

TEST(CodecDecode, RejectsUnknownVersionsAndTags) {
  for (char version : {'\x00', '\x02', '\xff'}) {
    auto bytes = encode(term(1));
    bytes[0] = version;
    expect_error(decode(bytes), errc::decode_error, "unsupported version");
  }
  for (std::string_view tag : {"\x00"sv, "\x0a"sv, "\xff"sv}) {
    expect_error(decode(frame(std::string(tag) + "\x00"s)), errc::decode_error, "unknown tag");
  }
}

TEST(CodecDecode, RejectsMalformedVarints) {
  expect_error(decode(frame("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x00"s)),
               errc::decode_error, "longer than 10 bytes");
  expect_error(decode(frame("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02")), errc::decode_error,
               "overflows 64 bits");
  expect_error(decode(frame("\x01\x82\x00"s)), errc::decode_error, "shortest form");
  auto max = decode(frame("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"));
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(*max, term(std::numeric_limits<std::int64_t>::min()));
}

TEST(CodecDecode, RejectsOutOfRangePidsAndReferences) {
  expect_error(decode(frame("\x05\x80\x80\x80\x80\x10\x00\x00"s)), errc::decode_error,
               "pid node exceeds 32 bits");
  expect_error(decode(frame("\x06\x80\x80\x80\x08\x00\x00\x00"s)), errc::decode_error,
               "reference node exceeds 24 bits");
}

TEST(CodecDecode, LimitsAtomNames) {
  std::string name(255, 'n');
  auto ok = decode(frame("\x03\xff\x01" + name));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->as_atom().name(), name);
  expect_error(decode(frame("\x03\x80\x02" + name + "n")), errc::limit_exceeded,
               "atom name of 256 bytes exceeds 255");
}

TEST(CodecDecode, InternsNoAtomWhenCreatingIsDisabled) {
  decode_limits safe{.create_atoms = false};
  auto known = decode(frame("\x03\x02ok"), safe);
  ASSERT_TRUE(known.has_value());
  EXPECT_TRUE(known->is(atoms::ok));
  expect_error(decode(frame("\x03\x0bnever_named"), safe), errc::limit_exceeded, "unknown atom");
  EXPECT_FALSE(atom::find("never_named").has_value());
}

TEST(CodecDecode, AcceptsMapKeysInAnyOrderButNotTwice) {
  using namespace literals;
  auto unsorted = decode(frame("\x09\x02\x01\x04\x03\x01\x62\x01\x02\x03\x01\x61"));
  ASSERT_TRUE(unsorted.has_value());
  EXPECT_EQ(*unsorted, term::map({{1, "a"_a}, {2, "b"_a}}));
  expect_error(decode(frame("\x09\x02\x01\x02\x03\x01\x61\x01\x02\x03\x01\x62")),
               errc::decode_error, "offset 5: map repeats a key");
}

TEST(CodecFrameSize, ReadsTheLengthFromTheHeaderAlone) {
  auto bytes = encode(term("a string longer than the inline limit"));
  auto all = std::as_bytes(std::span(bytes.data(), bytes.size()));
  auto size = frame_size(all.first(header_size));
  ASSERT_TRUE(size.has_value());
  EXPECT_EQ(*size, bytes.size());
  auto short_prefix = frame_size(all.first(4));
  ASSERT_FALSE(short_prefix.has_value());
  EXPECT_EQ(short_prefix.error().context, "offset 0: truncated header (needs 5 bytes, 4 left)");
}

} // namespace
} // namespace vigil::ipc
