package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// Pools hands the external tests the store's connection pools, so they can
// check what every pooled connection runs with.
func (s *Store) Pools() (writer, readers *sql.DB) { return s.w, s.r }

// Migrations is the SQL of every migration in order, so a test can build a
// database as an older server left it.
func Migrations() []string {
	ms, err := loadMigrations()
	if err != nil {
		panic(err)
	}
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.sql
	}
	return out
}

// Checkpointing sets the checkpointer's interval and the WAL size, in
// frames, at which it makes the WAL start over.
func Checkpointing(every time.Duration, frames int) Option {
	return func(o *options) { o.checkpointEvery, o.restartFrames = every, frames }
}

// OnBusy calls f, with the write's context, whenever one of the store's
// writes finds the write lock held and waits for it. Inserts are written
// with a context of the writer's own.
func OnBusy(f func(context.Context)) Option { return func(o *options) { o.onBusy = f } }

// FailBeforeCommit makes Open's upgrade fail with err after its last step,
// just before its transaction would commit.
func FailBeforeCommit(err error) Option {
	return func(o *options) {
		o.beforeCommit = func(context.Context, *sql.Tx) error { return err }
	}
}

// SchemaVersion is the user_version of this server's schema.
func SchemaVersion() int { return len(Migrations()) }
