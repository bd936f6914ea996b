module github.com/httpdg/httpdg

go 1.26.8

require (
	github.com/alecthomas/participle/v2 v2.1.4
	github.com/rs/zerolog v1.35.1
	github.com/yuin/gopher-lua v1.1.2
	golang.org/x/crypto v0.59.0
	golang.org/x/sys v0.50.0
)

require (
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
)
