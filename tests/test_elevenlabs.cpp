// The ElevenLabs client against a loopback fake that follows ../shared/specs/elevenlabs-music.md.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fake_elevenlabs.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/enrich/target.hpp"
#include "hitdna/generate/elevenlabs.hpp"
#include "helpers.hpp"

using namespace hitdna;
using json = nlohmann::json;

namespace {

generate::ElevenLabsConfig cfg_for(const test::FakeElevenLabs& fake) {
    generate::ElevenLabsConfig c;
    c.base_url = fake.url();
    c.api_key = "test-key";
    c.timeout_s = 10;
    c.max_backoff_s = 2;
    return c;
}

json v1_body() {
    auto t = enrich::from_prompt("120 bpm in C major", 60);
    return {{"composition_plan", enrich::composition_plan(t, "music_v1")}, {"model_id", "music_v1"}, {"seed", 5}};
}

std::string message_of(const std::function<void()>& f, ErrorKind* kind = nullptr) {
    try {
        f();
    } catch (const Error& e) {
        if (kind) *kind = e.kind();
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("elevenlabs: audio bytes and the song-id, the request follows the contract") {
    test::FakeElevenLabs fake;
    auto r = generate::compose(cfg_for(fake), v1_body());
    CHECK(std::string(r.audio.begin(), r.audio.end()) == fake.audio);
    CHECK(r.song_id == "song-0");
    CHECK(r.attempts == 1);
    auto reqs = fake.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].target == "/v1/music?output_format=mp3_44100_128");
    CHECK(reqs[0].header("xi-api-key") == "test-key");
    CHECK(reqs[0].header("content-type") == "application/json");
    CHECK(test::check_compose_request(reqs[0]).empty());
    // v2 chunks too.
    auto t = enrich::from_prompt("90 bpm", 200);
    json v2 = {{"composition_plan", enrich::composition_plan(t, "music_v2")}, {"model_id", "music_v2"}, {"seed", 1}};
    CHECK_NOTHROW(generate::compose(cfg_for(fake), v2));
}

TEST_CASE("elevenlabs: 429 then success honouring Retry-After, 5xx retried then reported") {
    test::FakeElevenLabs fake;
    fake.script({429, {{"Content-Type", "application/json"}, {"Retry-After", "1"}}, R"({"detail":{"status":"too_many_concurrent_requests","message":"busy"}})"});
    const auto t0 = std::chrono::steady_clock::now();
    auto r = generate::compose(cfg_for(fake), v1_body());
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(r.attempts == 2);
    CHECK(waited >= 0.95);
    CHECK(waited < 5);
    // A server asking for longer than we wait (60 s) is not retried early.
    fake.script({429, {{"Retry-After", "120"}}, R"({"detail":{"code":"rate_limit_exceeded","message":"quota window"}})"});
    const auto t1 = std::chrono::steady_clock::now();
    auto long_wait = message_of([&] { generate::compose(cfg_for(fake), v1_body()); });
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count() < 1.0);
    CHECK(long_wait.find("asks to wait 120 s") != std::string::npos);
    for (int i = 0; i < 4; ++i) fake.script({503, {{"retry-after-ms", "10"}}, "upstream unavailable"});
    auto cfg = cfg_for(fake);
    cfg.max_retries = 3;
    ErrorKind kind{};
    auto msg = message_of([&] { generate::compose(cfg, v1_body()); }, &kind);
    CHECK(kind == ErrorKind::remote);
    CHECK(msg.find("server error (503") != std::string::npos);
    CHECK(msg.find("after 4 attempts") != std::string::npos);
    CHECK(msg.find("upstream unavailable") != std::string::npos);
}

TEST_CASE("elevenlabs: 401, 422 with a detail array, bad_prompt with a suggestion, the key never shows") {
    test::FakeElevenLabs fake("the-real-key");
    auto cfg = cfg_for(fake);
    cfg.api_key = "sk_wrong_secret";
    ErrorKind kind{};
    auto msg = message_of([&] { generate::compose(cfg, v1_body()); }, &kind);
    CHECK(kind == ErrorKind::remote);
    CHECK(msg.find("rejected the API key (401 invalid_api_key: Invalid API key)") != std::string::npos);
    CHECK(msg.find("sk_wrong_secret") == std::string::npos);
    cfg.api_key = "the-real-key";
    // music_length_ms is for prompts only; a v2 plan with model v1; both answered 422 by the contract.
    auto body = v1_body();
    body["music_length_ms"] = 30000;
    msg = message_of([&] { generate::compose(cfg, body); });
    CHECK(msg.find("invalid request (422 validation_error: body.music_length_ms: music_length_ms can only be used with prompt)") != std::string::npos);
    body = v1_body();
    body["prompt"] = "also a prompt";
    msg = message_of([&] { generate::compose(cfg, body); });
    CHECK(msg.find("Only one of prompt or composition_plan") != std::string::npos);
    fake.script({400, {{"Content-Type", "application/json"}},
                 R"({"detail":{"status":"bad_prompt","message":"The prompt names an artist","data":{"prompt_suggestion":"An energetic west-coast hip-hop beat"}}})"});
    try {
        generate::compose(cfg, v1_body());
        FAIL("expected a refusal");
    } catch (const generate::ElevenLabsError& e) {
        CHECK(e.refusal.status == "bad_prompt");
        REQUIRE(e.refusal.prompt_suggestion);
        CHECK(*e.refusal.prompt_suggestion == "An energetic west-coast hip-hop beat");
        CHECK(std::string(e.what()).find("--accept-suggestion") != std::string::npos);
    }
    // Other envelopes: a plain-text body, a detail string, the newer code field.
    CHECK(generate::describe_error(401, "Unauthorized\n", nullptr) == "ElevenLabs rejected the API key (401: Unauthorized); check ELEVENLABS_API_KEY");
    CHECK(generate::describe_error(404, R"({"detail":"Not Found"})", nullptr) == "ElevenLabs: request failed (404: Not Found)");
    CHECK(generate::describe_error(429, R"({"detail":{"type":"rate_limit","code":"rate_limit_exceeded","message":"slow down"}})", nullptr) ==
          "ElevenLabs: too many requests (429 rate_limit_exceeded: slow down)");
    generate::Refusal ref;
    auto plan_msg = generate::describe_error(400, R"({"detail":{"code":"bad_request","status":"bad_composition_plan","data":{"composition_plan_suggestion":{"chunks":[]}}}})", &ref);
    CHECK(ref.status == "bad_composition_plan");
    CHECK(ref.plan_suggestion);
    CHECK(plan_msg.find("refused the composition plan") != std::string::npos);
}

TEST_CASE("elevenlabs: a slow answer times out, a truncated body is an error, no key is an error") {
    test::FakeElevenLabs fake;
    auto cfg = cfg_for(fake);
    cfg.timeout_s = 1;
    fake.script({200, {{"Content-Type", "audio/mpeg"}}, "late audio", 3000});
    ErrorKind kind{};
    auto msg = message_of([&] { generate::compose(cfg, v1_body()); }, &kind);
    CHECK(kind == ErrorKind::timeout);
    CHECK(msg.find("within 1 s") != std::string::npos);
    cfg.timeout_s = 10;
    fake.script({200, {{"Content-Type", "audio/mpeg"}, {"song-id", "x"}}, std::string(10000, 'a'), 0, true});
    msg = message_of([&] { generate::compose(cfg, v1_body()); }, &kind);
    CHECK(kind == ErrorKind::network);
    CHECK(msg.find("cut off") != std::string::npos);
    cfg.api_key.clear();
    msg = message_of([&] { generate::compose(cfg, v1_body()); }, &kind);
    CHECK(kind == ErrorKind::usage);
}

TEST_CASE("elevenlabs: retry delays from retry-after-ms, Retry-After, x-ratelimit-reset, or capped backoff") {
    CHECK(generate::retry_delay_s({{"retry-after-ms", "250"}}, 0, 60, 0) == doctest::Approx(0.25));
    CHECK(generate::retry_delay_s({{"retry-after", "7"}}, 0, 60, 0) == doctest::Approx(7));
    CHECK(generate::retry_delay_s({{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}, 0, 60, 0) == doctest::Approx(0));  // in the past
    CHECK(generate::retry_delay_s({}, 0, 60, 0) == doctest::Approx(1));
    CHECK(generate::retry_delay_s({}, 3, 60, 1) == doctest::Approx(8.8));
    CHECK(generate::retry_delay_s({}, 10, 60, 0) == doctest::Approx(60));
    CHECK(generate::retry_delay_s({{"retry-after", "500"}}, 0, 60, 0) == doctest::Approx(60));
}

TEST_CASE("cli: generate --backend elevenlabs against the fake, with --accept-suggestion") {
    test::FakeElevenLabs fake;
    test::TempDir dir;
    std::ofstream(dir.file("t.json")) << enrich::to_json(enrich::from_prompt("100 bpm in G major", 45)).dump();
    const std::string env = "ELEVENLABS_API_KEY=test-key ELEVENLABS_BASE_URL=" + fake.url() + " ";
    auto r = test::sh(env + HITDNA_BIN + " generate --target '" + dir.file("t.json") + "' -o '" + dir.file("x.mp3") +
                      "' --db '" + dir.file("c.db") + "'", 60);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto rec = json::parse(r.out);
    CHECK(rec["backend"] == "elevenlabs");
    CHECK(rec["song_id"] == "song-0");
    CHECK(rec["attempts"][0]["request"]["model_id"] == "music_v2");
    CHECK(r.out.find("test-key") == std::string::npos);
    CHECK(test::slurp(dir.file("x.mp3")) == fake.audio);
    // A refusal without --accept-suggestion: exit 7, one line; with it, the suggestion is used.
    fake.script({400, {{"Content-Type", "application/json"}}, R"({"detail":{"status":"bad_prompt","message":"no","data":{"prompt_suggestion":"A calm piano piece"}}})"});
    r = test::sh(env + HITDNA_BIN + " generate --target '" + dir.file("t.json") + "' -o '" + dir.file("y.mp3") + "' --no-record", 60);
    CHECK(r.exit_code == 7);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(std::filesystem::exists(dir.file("y.mp3")));
    fake.script({400, {{"Content-Type", "application/json"}}, R"({"detail":{"status":"bad_prompt","message":"no","data":{"prompt_suggestion":"A calm piano piece"}}})"});
    r = test::sh(env + HITDNA_BIN + " generate --target '" + dir.file("t.json") + "' -o '" + dir.file("y.mp3") +
                 "' --no-record --accept-suggestion", 60);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    auto last = fake.requests().back();
    CHECK(json::parse(last.body)["prompt"] == "A calm piano piece");
    CHECK(json::parse(last.body).contains("music_length_ms"));
    for (auto& e : std::filesystem::directory_iterator(dir.path)) CHECK(e.path().string().find(".attempt-") == std::string::npos);
    // A plan suggestion for the other model is not used.
    fake.script({400, {{"Content-Type", "application/json"}},
                 R"({"detail":{"status":"bad_composition_plan","data":{"composition_plan_suggestion":{"positive_global_styles":[],"negative_global_styles":[],"sections":[]}}}})"});
    r = test::sh(env + HITDNA_BIN + " generate --target '" + dir.file("t.json") + "' -o '" + dir.file("z.mp3") +
                 "' --no-record --accept-suggestion --model music_v2", 60);
    CHECK(r.exit_code == 7);
    CHECK(r.err.find("not a music_v2 plan") != std::string::npos);
}

TEST_CASE("plans stay within the API limits for extreme targets") {
    // 20 parts of 2 s and one of 560 s (600 s): splits, merges, the 600 s total, whole ms.
    auto t = enrich::from_prompt("x", 600);
    t.sections.clear();
    for (int i = 0; i < 20; ++i) t.sections.push_back({"verse", std::string(1, char('A' + i % 3)), 0, 2, 0});
    t.sections.push_back({"hook", "D", 0, 560, 0});
    t.duration_s = 600;
    for (const char* model : {"music_v1", "music_v2"}) {
        auto plan = enrich::composition_plan(t, model);
        const auto& parts = std::string(model) == "music_v1" ? plan["sections"] : plan["chunks"];
        REQUIRE(parts.size() >= 5);
        CHECK(parts.size() <= 30);
        int64_t total = 0;
        for (const auto& p : parts) {
            CHECK(p["duration_ms"].get<int>() >= 3000);
            CHECK(p["duration_ms"].get<int>() <= 120000);
            total += p["duration_ms"].get<int64_t>();
        }
        CHECK(total <= 600000);
        CHECK(total >= 599000);
        test::FakeRequest req;
        req.method = "POST";
        req.target = "/v1/music?output_format=mp3_44100_128";
        req.body = json{{"composition_plan", plan}, {"model_id", model}, {"seed", 1}}.dump();
        CHECK(test::check_compose_request(req) == "");
    }
    // 60 parts of 10 s: at most 30 parts, none over 120 s.
    t.sections.assign(60, enrich::PlannedSection{"verse", "A", 0, 10, 0});
    auto plan = enrich::composition_plan(t, "music_v1");
    CHECK(plan["sections"].size() <= 30);
    for (const auto& p : plan["sections"]) CHECK(p["duration_ms"].get<int>() <= 120000);
}
