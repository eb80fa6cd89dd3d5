package metrics

import (
	"context"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Health registers, read at scrape time, whether the store is ready (ready
// is /readyz's check) and the free and total bytes of the file system that
// holds dir.
func Health(reg prometheus.Registerer, ready func(context.Context) error, dir string) {
	isReady := func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return ready(ctx) == nil
	}
	statfs := func() (syscall.Statfs_t, error) {
		var fs syscall.Statfs_t
		err := syscall.Statfs(dir, &fs)
		return fs, err
	}
	reg.MustRegister(
		scraped[bool]{always(isReady), []figure[bool]{
			gauge("litepaste_ready", one,
				"1 when the database can be read and written, on a replica when its copy can be read (what /readyz checks), else 0."),
		}},
		scraped[syscall.Statfs_t]{statfs, []figure[syscall.Statfs_t]{
			// Bavail, not Bfree: the blocks reserved for root are not litepaste's.
			gauge("litepaste_disk_free_bytes", func(fs syscall.Statfs_t) float64 { return float64(fs.Bavail) * float64(fs.Bsize) },
				"Bytes free for litepaste on the file system of the database."),
			gauge("litepaste_disk_size_bytes", func(fs syscall.Statfs_t) float64 { return float64(fs.Blocks) * float64(fs.Bsize) },
				"Size of the file system of the database, in bytes."),
		}},
	)
}
