module litepaste/test/system

go 1.26.0
