module localkms.dev/localkms/examples/go

go 1.19

require localkms.dev/localkms/bindings/go v0.0.0

replace localkms.dev/localkms/bindings/go => ../../bindings/go
