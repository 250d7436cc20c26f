// libFuzzer target over hitdna's text readers: the first byte picks one, the rest is its input.
//   0  a DNA / target / generation JSON file, as `hitdna show` and `plot` read it
//   1  a target JSON, as `generate --target` and `validate` read it
//   2  feedback events, JSON Lines (`hitdna feedback --events`)
//   3  --filter expressions, one per line
//   4  the error answers of ElevenLabs and Qdrant (status from the second byte)
//   5  analyses for `hitdna ingest --dna` (JSON Lines of `analyze -f jsonl --vectors`), stored
//      into a scratch catalog without index updates
// Every input must give a result or a hitdna::Error: never a crash, hang or sanitizer report.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "hitdna/core/error.hpp"
#include "hitdna/enrich/prompt.hpp"
#include "hitdna/enrich/target.hpp"
#include "hitdna/generate/elevenlabs.hpp"
#include "hitdna/ingest/dna_import.hpp"
#include "hitdna/learn/engagement.hpp"
#include "hitdna/qdrant/client.hpp"
#include "hitdna/report/inputs.hpp"
#include "hitdna/store/catalog.hpp"
#include "hitdna/store/filter.hpp"

namespace {

const std::string& scratch_dir() {
    static const std::string dir = [] {
        char tmpl[] = "/tmp/hitdna-fuzz-readers-XXXXXX";
        return std::string(mkdtemp(tmpl) ? tmpl : "/tmp");
    }();
    return dir;
}

std::string write_file(const std::string& name, const std::string& text) {
    const std::string path = scratch_dir() + "/" + name;
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(text.data(), 1, text.size(), f);
        std::fclose(f);
    }
    return path;
}

void read_json_input(const std::string& text) {
    // A JSON object that is a DNA or a target goes through the same reader `show` uses; the
    // catalog is never needed for a file argument.
    const std::string path = write_file("input.json", text);
    hitdna::analysis::AnalyzeOptions ao;
    ao.open.allow_ffmpeg = false;
    std::ostringstream log;
    for (const auto& in : hitdna::report::resolve_inputs({path}, scratch_dir() + "/none.db", ao, log)) (void)hitdna::report::plot_inputs(in);
}

void import_dna_lines(const std::string& text) {
    static hitdna::store::Catalog catalog(scratch_dir() + "/dna.db", hitdna::store::Catalog::Mode::read_write);
    hitdna::ingest::IngestOptions o;
    o.update_index = false;
    std::istringstream in(text);
    std::ostringstream err;
    const auto r = hitdna::ingest::import_dna(catalog, o, in, "fuzz.jsonl", err);
    if (r.added + r.known + r.bad_rows > r.inputs) __builtin_trap();  // every line is counted once
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        switch (data[0] % 6) {
            case 0:
                read_json_input(text);
                break;
            case 1:
                (void)hitdna::enrich::read_target(write_file("target.json", text));
                break;
            case 2: {
                std::istringstream in(text);
                std::vector<hitdna::learn::Problem> problems;
                for (const auto& e : hitdna::learn::parse_events(in, problems))
                    if (!hitdna::learn::check_event(e).empty()) __builtin_trap();  // bad events must be problems, not events
                break;
            }
            case 3: {
                std::vector<std::string> exprs;
                std::istringstream in(text);
                for (std::string line; std::getline(in, line);) exprs.push_back(line);
                (void)hitdna::store::parse_filter(exprs);
                break;
            }
            case 5:
                import_dna_lines(text);
                break;
            default: {
                const int status = 400 + data[1] % 200;
                hitdna::generate::Refusal refusal;
                const std::string a = hitdna::generate::describe_error(status, text.substr(1), &refusal);
                const std::string b = hitdna::qdrant::describe_error(status, "application/json", text.substr(1));
                if (a.find('\n') != std::string::npos || b.find('\n') != std::string::npos) __builtin_trap();  // one line
                break;
            }
        }
    } catch (const hitdna::Error&) {
    } catch (const nlohmann::json::exception&) {
        __builtin_trap();  // a JSON type error escaping a reader is a bug: it must become a hitdna::Error
    }
    return 0;
}
