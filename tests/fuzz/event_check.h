#pragma once
// What both fuzz targets do with each decoded event: run it through the pipeline's default
// enrichers and the JSON formatter exactly as app/pipeline.cc does, then prove the line is one
// valid JSON object in UTF-8 (a raw newline, which would split the NDJSON line, cannot be inside
// one). Any failure aborts, which libFuzzer reports as a crash with the input that caused it.

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "decode/dns_event.h"
#include "emitters/format_json.h"
#include "enrich/enricher.h"

namespace stash53::fuzz {

class EventChecker {
 public:
  EventChecker() : formatter_(/*rrprint=*/true) {  // rrprint: the superset of record output
    for (const auto& type : enrich::default_enrichers()) {
      YAML::Node n(YAML::NodeType::Map);
      config::OptionReader options(n, "fuzz " + type);
      if (auto e = enrich::make_enricher({type, &options, true})) enrichers_.push_back(std::move(e));
    }
  }

  void check(decode::DnsEvent& ev) {
    for (auto& e : enrichers_) e->enrich(ev);
    const std::string_view json = formatter_.format(ev, ++events_);
    // SAX, with one reader whose stack is reused: no document built per event.
    rapidjson::MemoryStream bytes(json.data(), json.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(bytes);
    rapidjson::BaseReaderHandler<> ignore;
    const auto ok = reader_.Parse<rapidjson::kParseValidateEncodingFlag>(in, ignore);
    if (!ok) fail(json, rapidjson::GetParseError_En(ok.Code()), ok.Offset());
    if (json.front() != '{') fail(json, "not an object", 0);
  }

 private:
  [[noreturn]] static void fail(std::string_view json, const char* why, std::size_t offset) {
    std::fprintf(stderr, "invalid event JSON (%s at offset %zu): %.*s\n", why, offset,
                 static_cast<int>(json.size()), json.data());
    std::abort();
  }

  std::vector<std::unique_ptr<enrich::Enricher>> enrichers_;
  emitters::JsonFormatter formatter_;
  rapidjson::Reader reader_;
  std::uint64_t events_ = 0;
};

}  // namespace stash53::fuzz
