package main

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/internal/testkit"
	"github.com/litepaste/litepaste/app/paste"
	"github.com/litepaste/litepaste/app/sqlite"
)

// asMainEnv makes the test binary run as the program itself (main, with
// its own arguments), so a test can start the real program in a process of
// its own and kill it.
const asMainEnv = "LITEPASTE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// upgradeTestMiB is the size of the LogPaste file the kill test upgrades;
// LITEPASTE_UPGRADE_TEST_MIB changes it.
func upgradeTestMiB(t *testing.T) int {
	v := os.Getenv("LITEPASTE_UPGRADE_TEST_MIB")
	if v == "" {
		return 160
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 16 {
		t.Fatalf("LITEPASTE_UPGRADE_TEST_MIB=%q: want a number of MiB, at least 16", v)
	}
	return n
}

// writeLargeLogPaste fills a LogPaste file with about mib MiB of pastes
// (sizes from 1 KiB to 2 MiB, bytes of every value) and returns the SHA-256
// of each by ID.
func writeLargeLogPaste(t *testing.T, path, journalMode string, mib int) map[string]string {
	t.Helper()
	db := testkit.OpenLogPasteDB(t, path, journalMode, 1)
	seed := [32]byte{13, byte(mib)}
	bytesSrc := rand.NewChaCha8(seed)
	rng := rand.New(bytesSrc)
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	sizes := []int{1 << 10, 3 << 10, 16 << 10, 200 << 10, 2 << 20}
	zone := time.FixedZone("", -5*3600)
	sums := map[string]string{}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := tx.Prepare(`INSERT INTO entries(id, creation_time, contents) values(?,?,?)`)
	if err != nil {
		t.Fatal(err)
	}
	for total, i := 0, 0; total < mib<<20; i++ {
		id := make([]byte, paste.IDLength)
		for j := range id {
			id[j] = alphabet[rng.IntN(len(alphabet))]
		}
		if _, dup := sums[string(id)]; dup {
			continue
		}
		body := make([]byte, sizes[i%len(sizes)]+rng.IntN(100))
		_, _ = bytesSrc.Read(body) // never fails
		created := time.Date(2022, 1, 1, 0, 0, 0, 0, zone).Add(time.Duration(i) * time.Minute)
		if _, err := stmt.Exec(string(id), created.Format(time.RFC3339), string(body)); err != nil {
			t.Fatal(err)
		}
		sums[string(id)] = testkit.SHA256(body)
		total += len(body)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return sums
}

// startMain runs the program with args in a process of its own, with env
// (VAR=value) added to this one's.
func startMain(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), asMainEnv+"=1", "PORT=0"), env...)
	cmd.Stdout, cmd.Stderr = &testkit.SyncBuffer{}, &testkit.SyncBuffer{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// A kill -9 in the middle of a large LogPaste upgrade leaves the file as it
// was, and the next run upgrades it fully. In WAL mode the upgrade writes
// only to the WAL, so the file keeps every byte; in rollback-journal mode
// SQLite writes the file and keeps its old pages in the journal, which the
// next opener replays: the file is then byte for byte what it was, and the
// next upgrade starts from the hot journal itself.
func TestKilledUpgradeLeavesTheFileAsItWas(t *testing.T) {
	mib := upgradeTestMiB(t)
	for _, tt := range []struct {
		journalMode string
		mib         int
	}{
		{"WAL", mib},
		{"DELETE", max(16, mib/4)},
	} {
		t.Run(tt.journalMode, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "store.db")
			sums := writeLargeLogPaste(t, path, tt.journalMode, tt.mib)
			before := testkit.FileSHA256(t, path)
			size := fileSize(path)

			cmd := startMain(t, []string{"DB_PATH=" + path}, "-migrate")
			started := time.Now()
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			// Under way: the upgrade has written a sixth of the file's size
			// to the WAL, the journal or past the file's old end.
			written := func() int64 {
				return fileSize(path+"-wal") + fileSize(path+"-journal") + max(0, fileSize(path)-size)
			}
			deadline := time.After(2 * time.Minute)
		wait:
			for written() < size/6 {
				select {
				case err := <-exited:
					t.Fatalf("the upgrade ended (%v) before it could be killed; make LITEPASTE_UPGRADE_TEST_MIB larger\n%s", err, cmd.Stderr)
				case <-deadline:
					break wait
				case <-time.After(2 * time.Millisecond):
				}
			}
			at, w := time.Since(started), written()
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-exited
			t.Logf("%d pastes, %d MiB file (%s): killed %v into the upgrade, %d MiB written", len(sums), size>>20, tt.journalMode, at.Round(time.Millisecond), w>>20)

			if tt.journalMode == "DELETE" {
				if fileSize(path+"-journal") == 0 {
					t.Fatal("no hot journal after the kill: the upgrade was not under way")
				}
				// The upgrade below starts from what the kill left, hot
				// journal and all; this copy shows what replaying it gives.
				replayed := filepath.Join(t.TempDir(), "replayed.db")
				for _, suffix := range []string{"", "-journal"} {
					testkit.CopyFile(t, path+suffix, replayed+suffix)
				}
				replayJournal(t, replayed)
				if after := testkit.FileSHA256(t, replayed); after != before {
					t.Fatalf("SHA-256 of the file after the kill, its journal replayed: %s, before: %s", after, before)
				}
			} else if after := testkit.FileSHA256(t, path); after != before {
				t.Fatalf("SHA-256 of the file after the kill: %s, before: %s", after, before)
			}

			rerun := startMain(t, []string{"DB_PATH=" + path}, "-migrate")
			began := time.Now()
			if err := rerun.Wait(); err != nil {
				t.Fatalf("-migrate after the kill: %v\n%s", err, rerun.Stderr)
			}
			t.Logf("the upgrade after the kill took %v; the file is %d MiB, was %d MiB", time.Since(began).Round(time.Millisecond), fileSize(path)>>20, size>>20)
			s, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.Upgraded(); got != (sqlite.Upgrade{}) {
				t.Errorf("the run after -migrate upgraded again: %+v", got)
			}
			for id, sum := range sums {
				_, r, err := s.Lookup(context.Background(), paste.ID(id), time.Now())
				var body []byte
				if err == nil {
					body, err = io.ReadAll(r)
				}
				if err != nil {
					t.Fatalf("paste %s: %v", id, err)
				}
				if got := testkit.SHA256(body); got != sum {
					t.Fatalf("paste %s: SHA-256 %s after the upgrade, %s before", id, got, sum)
				}
			}
			st, err := s.Stats(context.Background())
			if err != nil || st.Pastes != int64(len(sums)) {
				t.Errorf("pastes after the upgrade: %d (%v), want %d", st.Pastes, err, len(sums))
			}
		})
	}
}

// replayJournal opens the file as any SQLite program would, which rolls a
// hot journal back into it.
func replayJournal(t *testing.T, path string) {
	t.Helper()
	db := testkit.RawDB(t, path, "")
	var n int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if fileSize(path+"-journal") != 0 {
		t.Fatal("the journal is still there after an open")
	}
}
