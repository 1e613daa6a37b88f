// Pins go-plugin v1.8.0 for the interop tests: its example programs (tool
// directives) and our Go peers in ../goprogs are built against it by ../setup.sh.
module interop/go18

go 1.24

tool (
	github.com/hashicorp/go-plugin/examples/bidirectional
	github.com/hashicorp/go-plugin/examples/bidirectional/plugin-go-grpc
	github.com/hashicorp/go-plugin/examples/grpc
	github.com/hashicorp/go-plugin/examples/grpc/plugin-go-grpc
	github.com/hashicorp/go-plugin/examples/grpc/plugin-go-netrpc
	github.com/hashicorp/go-plugin/examples/negotiated
	github.com/hashicorp/go-plugin/examples/negotiated/plugin-go
	github.com/hashicorp/go-plugin/examples/streaming
	github.com/hashicorp/go-plugin/examples/streaming/plugin
	interop/goprogs/cmd/counterhost
	interop/goprogs/cmd/host
	interop/goprogs/cmd/loadhost
	interop/goprogs/cmd/plugin
)

require google.golang.org/grpc v1.61.0

require (
	github.com/fatih/color v1.13.0 // indirect
	github.com/golang/protobuf v1.5.4 // indirect
	github.com/hashicorp/go-hclog v1.6.3 // indirect
	github.com/hashicorp/go-plugin v1.8.0 // indirect
	github.com/hashicorp/yamux v0.1.2 // indirect
	github.com/mattn/go-colorable v0.1.12 // indirect
	github.com/mattn/go-isatty v0.0.17 // indirect
	github.com/oklog/run v1.1.0 // indirect
	golang.org/x/net v0.38.0 // indirect
	golang.org/x/sys v0.31.0 // indirect
	golang.org/x/text v0.23.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20231106174013-bbf56f31fb17 // indirect
	google.golang.org/protobuf v1.36.6 // indirect
	interop/goprogs v0.0.0 // indirect
)

replace interop/goprogs => ../goprogs
