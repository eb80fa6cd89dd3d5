module litepaste/bench

go 1.26.0
