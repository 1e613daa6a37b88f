// Pins go-plugin v1.4.10 for the interop tests: its example programs (tool
// directives) and our Go peers in ../goprogs are built against it by ../setup.sh.
module interop/go14

go 1.24

tool (
	github.com/hashicorp/go-plugin/examples/bidirectional
	github.com/hashicorp/go-plugin/examples/bidirectional/plugin-go-grpc
	github.com/hashicorp/go-plugin/examples/grpc
	github.com/hashicorp/go-plugin/examples/grpc/plugin-go-grpc
	github.com/hashicorp/go-plugin/examples/grpc/plugin-go-netrpc
	github.com/hashicorp/go-plugin/examples/negotiated
	interop/goprogs/cmd/host
	interop/goprogs/cmd/plugin
)

require (
	github.com/fatih/color v1.7.0 // indirect
	github.com/golang/protobuf v1.3.4 // indirect
	github.com/hashicorp/go-hclog v0.14.1 // indirect
	github.com/hashicorp/go-plugin v1.4.10 // indirect
	github.com/hashicorp/yamux v0.0.0-20180604194846-3520598351bb // indirect
	github.com/mattn/go-colorable v0.1.4 // indirect
	github.com/mattn/go-isatty v0.0.10 // indirect
	github.com/mitchellh/go-testing-interface v0.0.0-20171004221916-a61a99592b77 // indirect
	github.com/oklog/run v1.0.0 // indirect
	golang.org/x/net v0.0.0-20190311183353-d8887717615a // indirect
	golang.org/x/sys v0.0.0-20191008105621-543471e840be // indirect
	golang.org/x/text v0.3.0 // indirect
	google.golang.org/genproto v0.0.0-20190819201941-24fa4b261c55 // indirect
	google.golang.org/grpc v1.27.1 // indirect
	interop/goprogs v0.0.0 // indirect
)

replace interop/goprogs => ../goprogs
