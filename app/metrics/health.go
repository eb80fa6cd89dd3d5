package metrics

import (
	"context"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	readyDesc = prometheus.NewDesc("litepaste_ready",
		"1 when the database can be read and written, on a replica when its copy can be read (what /readyz checks), else 0.", nil, nil)
	diskFreeDesc = prometheus.NewDesc("litepaste_disk_free_bytes",
		"Bytes free for litepaste on the file system of the database.", nil, nil)
	diskSizeDesc = prometheus.NewDesc("litepaste_disk_size_bytes",
		"Size of the file system of the database, in bytes.", nil, nil)
)

// Health registers, read at scrape time, whether the store is ready (ready
// is /readyz's check) and the free and total bytes of the file system that
// holds dir.
func Health(reg prometheus.Registerer, ready func(context.Context) error, dir string) {
	reg.MustRegister(healthCollector{ready: ready, dir: dir})
}

type healthCollector struct {
	ready func(context.Context) error
	dir   string
}

func (c healthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- readyDesc
	ch <- diskFreeDesc
	ch <- diskSizeDesc
}

func (c healthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ready := 1.0
	if c.ready(ctx) != nil {
		ready = 0
	}
	ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, ready)
	var fs syscall.Statfs_t
	if err := syscall.Statfs(c.dir, &fs); err != nil {
		ch <- prometheus.NewInvalidMetric(diskFreeDesc, err)
		return
	}
	// Bavail, not Bfree: the blocks reserved for root are not litepaste's.
	ch <- prometheus.MustNewConstMetric(diskFreeDesc, prometheus.GaugeValue, float64(fs.Bavail)*float64(fs.Bsize))
	ch <- prometheus.MustNewConstMetric(diskSizeDesc, prometheus.GaugeValue, float64(fs.Blocks)*float64(fs.Bsize))
}
