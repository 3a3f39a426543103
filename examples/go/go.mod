module localkms.example/localkms

go 1.19
