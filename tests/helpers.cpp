#include "helpers.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace hitdna::test {

TempDir::TempDir() {
    char tmpl[] = "/tmp/hitdna-test-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
}
TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
}

core::ProcessResult run(std::vector<std::string> args, double timeout_s) {
    args.insert(args.begin(), HITDNA_BIN);
    return core::run_process(args, timeout_s);
}

core::ProcessResult sh(const std::string& command, double timeout_s) {
    return core::run_process({"/bin/sh", "-c", command}, timeout_s);
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
    std::vector<nlohmann::json> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(nlohmann::json::parse(l));
    return out;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

void tamper_sql(const std::string& db_path, const std::string& sql) {
    const char* script =
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.executescript(sys.argv[2])\n"
        "c.close()\n";
    auto r = core::run_process({"/usr/bin/python3", "-c", script, db_path, sql}, 60);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
}

}  // namespace hitdna::test
