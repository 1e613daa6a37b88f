// protoc plugins for the interop test that generates Go stubs from the .proto
// text `kv proto` prints. Kept apart from go18/go14 so their versions do not
// move the gRPC and protobuf versions the go-plugin peers are built with.
module interop/gotools

go 1.24

tool (
	google.golang.org/grpc/cmd/protoc-gen-go-grpc
	google.golang.org/protobuf/cmd/protoc-gen-go
)

require (
	google.golang.org/grpc/cmd/protoc-gen-go-grpc v1.3.0 // indirect
	google.golang.org/protobuf v1.36.6 // indirect
)
