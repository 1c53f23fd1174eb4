// Package examples holds the example pipelines and plugins. The default
// pipeline is embedded in the ballcast binary from here.
package examples

import _ "embed"

// DefaultPipeline is pipelines/default.yaml.
//
//go:embed pipelines/default.yaml
var DefaultPipeline []byte
