module github.com/litepaste/litepaste/bench

go 1.26.8

require (
	github.com/litepaste/litepaste/test/kit v0.0.0
	github.com/mattn/go-sqlite3 v1.14.53
)

replace github.com/litepaste/litepaste/test/kit => ../test/kit
