#include "hitdna/core/query_lines.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <istream>
#include <ostream>
#include <thread>
#include <vector>

#include "hitdna/core/error.hpp"

namespace hitdna::core {

namespace {

struct Line {
    size_t number = 0;
    nlohmann::json query;
    nlohmann::json id;
    std::shared_ptr<void> prepared;
    std::string error;  // non-empty: the line failed
    int status = 0;
};

void fail(Line& l, const std::exception& e) {
    l.error = e.what();
    const auto* he = dynamic_cast<const Error*>(&e);
    l.status = exit_code_for(he ? he->kind() : ErrorKind::internal);
}

// Parses one line: a JSON object (its id kept even when the rest is wrong).
void parse(Line& l, const std::string& text) {
    try {
        l.query = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // nlohmann's message names the byte; the line number is added by the caller.
        std::string what = e.what();
        if (auto p = what.find("parse error"); p != std::string::npos) what = what.substr(p);
        if (auto p = what.find(" at line 1, column "); p != std::string::npos) what.replace(p, 19, " at column ");
        fail(l, Error(ErrorKind::usage, "not JSON: " + what));
        return;
    }
    if (!l.query.is_object()) {
        fail(l, Error(ErrorKind::usage, "expected a JSON object, got " + std::string(l.query.type_name())));
        return;
    }
    if (l.query.contains("id")) l.id = l.query["id"];
}

void prepare_all(std::vector<Line>& lines, int threads, const PrepareQuery& prepare) {
    if (!prepare) return;
    std::atomic<size_t> next{0};
    auto work = [&] {
        for (size_t i; (i = next.fetch_add(1)) < lines.size();) {
            Line& l = lines[i];
            if (!l.error.empty()) continue;
            try {
                l.prepared = prepare(l.query);
            } catch (const std::exception& e) {
                fail(l, e);
            }
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads && size_t(t) < lines.size(); ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
}

}  // namespace

QueryLinesResult answer_query_lines(std::istream& in, const QueryLinesOptions& o, const PrepareQuery& prepare, const AnswerQuery& answer,
                                    std::ostream& out, std::ostream& err) {
    const int threads = o.jobs > 0 ? o.jobs : std::max(1, int(std::thread::hardware_concurrency()));
    // One thread answers each line as soon as it is read (a co-process can wait for it).
    const size_t chunk = o.chunk > 0 ? o.chunk : threads == 1 ? 1 : size_t(32) * size_t(threads);
    QueryLinesResult res;
    size_t number = 0;
    std::string text;
    bool more = true;
    while (more) {
        std::vector<Line> lines;
        while (lines.size() < chunk && (more = bool(std::getline(in, text)))) {
            ++number;
            if (!text.empty() && text.back() == '\r') text.pop_back();
            if (text.find_first_not_of(" \t") == std::string::npos) continue;
            Line l;
            l.number = number;
            parse(l, text);
            lines.push_back(std::move(l));
        }
        prepare_all(lines, threads, prepare);
        for (auto& l : lines) {
            nlohmann::ordered_json rec;
            rec["id"] = l.id;
            rec["line"] = l.number;
            if (l.error.empty()) {
                try {
                    const nlohmann::ordered_json fields = answer(l.query, l.prepared);
                    for (const auto& [key, value] : fields.items()) rec[key] = value;
                } catch (const std::exception& e) {
                    fail(l, e);
                }
            }
            l.prepared.reset();
            if (!l.error.empty()) {
                rec["error"] = l.error;
                rec["status"] = l.status;
                err << "hitdna: " << o.source << ":" << l.number << ": " << l.error << "\n";
                ++res.failed;
                if (!res.first_status) res.first_status = l.status;
            } else {
                ++res.answered;
            }
            out << rec.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
        }
        out.flush();
    }
    return res;
}

QueryLinesResult answer_query_source(const std::string& source, int jobs, const PrepareQuery& prepare, const AnswerQuery& answer, std::ostream& out,
                                     std::ostream& err) {
    QueryLinesOptions o;
    o.source = source == "-" ? "stdin" : source;
    o.jobs = jobs;
    if (source == "-") return answer_query_lines(std::cin, o, prepare, answer, out, err);
    std::ifstream file(source);
    if (!file) throw Error(ErrorKind::io, source + ": cannot open the queries file: " + std::strerror(errno));
    const auto res = answer_query_lines(file, o, prepare, answer, out, err);
    if (file.bad()) throw Error(ErrorKind::io, source + ": read error");
    return res;
}

}  // namespace hitdna::core
