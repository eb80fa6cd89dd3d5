package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/litepaste/litepaste/test/kit"
)

const (
	s3Bucket = "bench"
	s3Key    = "benchaccess"
	s3Secret = "benchsecret0123456789"
)

// replication is versitygw serving a bucket from a local directory and litestream
// replicating litepaste's database into it, and the durable ceiling's beside it, so
// that both pay for replication alike.
type replication struct {
	vgw        *kit.VersityGW
	ls         *proc
	replicaDir string
}

func (b *bench) startReplication(ctx context.Context, dbPath, durablePath string) (*replication, error) {
	root := b.path("s3")
	// The posix backend treats each top-level directory as a bucket.
	if err := os.MkdirAll(filepath.Join(root, s3Bucket), 0o755); err != nil {
		return nil, err
	}
	addr, err := kit.FreeAddr()
	if err != nil {
		return nil, err
	}
	vlog, err := os.Create(b.path("versitygw.log"))
	if err != nil {
		return nil, err
	}
	defer vlog.Close()
	vgw, err := kit.StartVersityGW(b.cfg.versitygw, addr, root, s3Key, s3Secret, vlog)
	if err != nil {
		return nil, err
	}
	r := &replication{vgw: vgw, replicaDir: filepath.Join(root, s3Bucket, "litepaste")}
	ok := false
	defer func() {
		if !ok {
			vgw.Stop()
		}
	}()

	config := b.path("litestream.yml")
	// As the image's litestream.yml: DB_SYNC_INTERVAL sets both intervals.
	yml := "dbs:\n"
	for name, path := range map[string]string{"litepaste": dbPath, "durable": durablePath} {
		yml += fmt.Sprintf(`  - path: %s
    monitor-interval: %s
    replica:
      type: s3
      bucket: %s
      path: %s
      endpoint: http://%s
      region: us-east-1
      force-path-style: true
      access-key-id: %s
      secret-access-key: %s
      sync-interval: %s
`, path, b.cfg.syncInterval, s3Bucket, name, addr, s3Key, s3Secret, b.cfg.syncInterval)
	}
	if err := os.WriteFile(config, []byte(yml), 0o600); err != nil {
		return nil, err
	}
	// AWS_CA_BUNDLE makes every litestream v0.5 S3 replica fail; no AWS_* setting of the
	// machine running the bench belongs in this run.
	ls, err := startProc("litestream", b.path("litestream.log"), envWithout("AWS_*"), b.cfg.litestream,
		"replicate", "-config", config)
	if err != nil {
		return nil, err
	}
	b.procs = append(b.procs, ls)
	r.ls = ls

	wait, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		if files, _ := dirBytes(r.replicaDir); files > 0 {
			ok = true
			return r, nil
		}
		if ls.exited() {
			return nil, fmt.Errorf("litestream exited: %v\n%s", ls.err, ls.tail(20))
		}
		select {
		case <-wait.Done():
			return nil, fmt.Errorf("no replica file in the bucket after 60s\n%s", ls.tail(20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// report prints litestream's own memory and what reached the bucket.
func (r *replication) report() {
	if hwm, _, err := memStatus(r.ls.pid()); err == nil {
		fmt.Printf("  litestream peak RSS %s (not counted in litepaste's)\n", mib(hwm))
	}
	files, size := dirBytes(r.replicaDir)
	fmt.Printf("  replica so far: %d files, %s\n", files, mib(size))
}

// stop lets litestream finish its final sync, then stops the S3 server.
func (r *replication) stop(b *bench) {
	if err := r.ls.stop(60 * time.Second); err != nil {
		b.broke = append(b.broke, err.Error())
		fmt.Printf("  BROKE: %v\n", err)
	}
	files, size := dirBytes(r.replicaDir)
	fmt.Printf("  replica after litestream's final sync: %d files, %s\n", files, mib(size))
	r.vgw.Stop()
}
