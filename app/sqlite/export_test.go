package sqlite

import "database/sql"

// Pools hands the external tests the store's connection pools, so they can
// check what every pooled connection runs with.
func (s *Store) Pools() (writer, readers *sql.DB) { return s.w, s.r }
