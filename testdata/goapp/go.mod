module github.com/tokenlab/tokenlab/testdata/goapp

go 1.26.8

require golang.org/x/oauth2 v0.38.0
