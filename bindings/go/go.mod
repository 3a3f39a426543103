module localkms.dev/localkms/bindings/go

go 1.19
