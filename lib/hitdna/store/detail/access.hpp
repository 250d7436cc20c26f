#pragma once
// Private to store/: the connection behind a Catalog, for the store's own modules
// (engagement, models, generations, sync state, indexes).
#include "hitdna/store/catalog.hpp"
#include "hitdna/store/detail/sqlite.hpp"

namespace hitdna::store::detail {

struct CatalogAccess {
    static Db& db(Catalog& catalog);
};

inline Db& db_of(Catalog& catalog) { return CatalogAccess::db(catalog); }

}  // namespace hitdna::store::detail
