module github.com/litepaste/litepaste/test/kit

go 1.26.8
