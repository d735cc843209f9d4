module github.com/tessera-media/tessera

go 1.26
