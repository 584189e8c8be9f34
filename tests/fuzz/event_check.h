#pragma once
// What both fuzz targets do with each decoded event: run it through the pipeline's default
// enrichers and then every format in every mode it has (an exchange made of the message as
// query, as response, and as both), then prove each document is one valid JSON object in UTF-8
// (a raw newline, which would split the NDJSON line, cannot be inside one). Any failure aborts, which libFuzzer reports as a crash with the input that caused it.

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

#include "decode/decoder.h"
#include "decode/dns_event.h"
#include "format/format.h"
#include "enrich/enricher.h"

namespace stash53::fuzz {

class EventChecker {
 public:
  EventChecker() {
    for (const auto& name : format::formats()) {  // rrprint: the superset of record output
      auto& s = *formats_.emplace_back(std::make_unique<Shape>());
      s.format = format::make_format(name, {/*rrprint=*/true});
      for (std::size_t m = 0; m < format::kModes; ++m)
        s.modes[m] = format::check_format(name, static_cast<format::Mode>(m)).empty();
    }
    for (const auto& type : enrich::default_enrichers()) {
      YAML::Node n(YAML::NodeType::Map);
      config::OptionReader options(n, "fuzz " + type);
      if (auto e = enrich::make_enricher({type, &options, true})) enrichers_.push_back(std::move(e));
    }
  }

  void check(decode::DnsEvent& ev) {
    for (auto& e : enrichers_) e->enrich(ev);
    using format::Mode;
    for (auto& shape : formats_) {
      auto& f = *shape;
      f.docs.clear();
      if (f.modes[static_cast<std::size_t>(Mode::Message)]) f.format->message(ev, f.docs);
      if (f.modes[static_cast<std::size_t>(Mode::Record)]) f.format->records(ev, f.docs);
      if (f.modes[static_cast<std::size_t>(Mode::Transaction)]) {
        using correlate::Status;
        f.format->exchange({&ev, nullptr, Status::Unanswered, 2, true}, f.docs);
        f.format->exchange({nullptr, &ev, Status::Unsolicited, 0, false}, f.docs);
        f.format->exchange({&ev, &ev, Status::Answered, 1, false}, f.docs);
      }
      for (const auto doc : f.docs.views()) check_json(doc);
    }
  }

 private:
  struct Shape {
    std::unique_ptr<format::Format> format;
    format::Documents docs;
    bool modes[format::kModes] = {};
  };

  void check_json(std::string_view json) {
    // SAX, with one reader whose stack is reused: no document built per event.
    rapidjson::MemoryStream bytes(json.data(), json.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(bytes);
    rapidjson::BaseReaderHandler<> ignore;
    const auto ok = reader_.Parse<rapidjson::kParseValidateEncodingFlag>(in, ignore);
    if (!ok) fail(json, rapidjson::GetParseError_En(ok.Code()), ok.Offset());
    if (json.front() != '{') fail(json, "not an object", 0);
  }

  [[noreturn]] static void fail(std::string_view json, const char* why, std::size_t offset) {
    std::fprintf(stderr, "invalid event JSON (%s at offset %zu): %.*s\n", why, offset,
                 static_cast<int>(json.size()), json.data());
    std::abort();
  }

  std::vector<std::unique_ptr<enrich::Enricher>> enrichers_;
  std::vector<std::unique_ptr<Shape>> formats_;
  rapidjson::Reader reader_;
};

/// A decoder's sink that checks every message and counts them.
class CheckingSink final : public decode::MessageSink {
 public:
  void on_message(decode::DnsEvent& ev) noexcept override {
    checker_.check(ev);
    ++messages_;
  }
  [[nodiscard]] std::uint64_t messages() const noexcept { return messages_; }

 private:
  EventChecker checker_;
  std::uint64_t messages_ = 0;
};

}  // namespace stash53::fuzz
