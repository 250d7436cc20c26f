#include "hitdna/analysis/batch.hpp"

#include <atomic>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hitdna/core/error.hpp"
#include "hitdna/dna/jams.hpp"
#include "hitdna/dna/json.hpp"

namespace hitdna::analysis {

namespace {

// The paths to analyze: "-" expands to the lines of `in` (CR stripped, blank lines skipped).
std::vector<std::string> expand_paths(const std::vector<std::string>& args, std::istream& in) {
    std::vector<std::string> paths;
    for (const auto& p : args) {
        if (p == "-") {
            std::string line;
            while (std::getline(in, line)) {
                if (!line.empty() && line.back() == '\r') line.pop_back();
                if (!line.empty()) paths.push_back(line);
            }
        } else {
            paths.push_back(p);
        }
    }
    return paths;
}

// One file's outcome: its record as printed, or the error.
struct Slot {
    bool done = false;
    std::string text;
    std::optional<Error> error;
};

// Analyzes one file and formats its record; never throws.
Slot analyze_one(const std::string& path, const BatchOptions& opt) {
    Slot s;
    try {
        dna::Dna d = analyze_file(path, opt.analyze);
        if (opt.identify) opt.identify(path, d);
        switch (opt.format) {
            case OutputFormat::json: s.text = dna::to_json_string(d, opt.vectors, 2) + "\n"; break;
            case OutputFormat::jsonl: s.text = dna::to_json_string(d, opt.vectors, -1) + "\n"; break;
            case OutputFormat::text: s.text = dna::to_text(d); break;
            case OutputFormat::jams: s.text = dna::to_jams_string(d) + "\n"; break;
        }
    } catch (const Error& e) {
        s.error = e;
    } catch (const std::bad_alloc&) {
        s.error = Error(ErrorKind::internal, path + ": out of memory");
    } catch (const std::exception& e) {
        s.error = Error(ErrorKind::internal, path + ": " + e.what());
    }
    s.done = true;
    return s;
}

}  // namespace

BatchResult run_batch(const BatchOptions& opt, std::istream& in, std::ostream& out, std::ostream& err) {
    const std::vector<std::string> paths = expand_paths(opt.paths, in);
    std::vector<Slot> slots(paths.size());
    std::mutex mu;
    std::condition_variable cv;
    std::atomic<size_t> next{0};
    auto worker = [&] {
        for (;;) {
            size_t i = next.fetch_add(1);
            if (i >= paths.size()) return;
            Slot s = analyze_one(paths[i], opt);
            {
                std::lock_guard<std::mutex> lock(mu);
                slots[i] = std::move(s);
            }
            cv.notify_all();
        }
    };
    int jobs = opt.jobs > 0 ? opt.jobs : int(std::max(1u, std::thread::hardware_concurrency()));
    jobs = int(std::min<size_t>(size_t(jobs), std::max<size_t>(1, paths.size())));
    std::vector<std::thread> threads;
    for (int t = 0; t < jobs; ++t) threads.emplace_back(worker);
    BatchResult result;
    // Print in input order as results arrive.
    for (size_t i = 0; i < paths.size(); ++i) {
        Slot s;
        {
            std::unique_lock<std::mutex> lock(mu);
            cv.wait(lock, [&] { return slots[i].done; });
            s = std::move(slots[i]);
        }
        if (s.error) {
            ++result.failed;
            std::string msg = s.error->what();
            // Every error already names the file; make sure of it for unexpected ones.
            if (msg.rfind(paths[i], 0) != 0) msg = paths[i] + ": " + msg;
            err << "hitdna analyze: " << msg << "\n";
            err.flush();
            if (result.exit_code == 0) result.exit_code = exit_code_for(s.error->kind());
        } else {
            ++result.analyzed;
            out << s.text;
            out.flush();
        }
    }
    for (auto& t : threads) t.join();
    return result;
}

}  // namespace hitdna::analysis
