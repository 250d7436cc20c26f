#include <iostream>
#include <memory>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/learn/model.hpp"

namespace hitdna::cli {

Runner register_learn(CLI::App& app) {
    struct State {
        std::string db;
        Format format{{"text", "json"}};
    };
    auto st = std::make_shared<State>();
    app.footer("Fits pattern weights on every track with engagement (see man hitdna-learn) and stores them as a new\n"
               "version. Exit status: 0 fitted, 1 not enough data (fewer than 30 tracks with engagement), 5 database error.");
    app.add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    add_format_option(app, st->format);
    return [st]() -> int {
        store::Catalog cat(store::resolve_db_path(st->db), store::Catalog::Mode::read_write);
        learn::Model m;
        try {
            m = learn::fit(cat);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::usage) throw;
            std::cerr << "hitdna learn: " << e.what() << "\n";
            return 1;
        }
        m = learn::save(cat, m);
        if (st->format.resolve() == "json") std::cout << learn::weights_json(m).dump(2) << "\n";
        else std::cout << learn::describe_weights(m, 10);
        return 0;
    };
}

}  // namespace hitdna::cli
