//go:build tools

// Package tools pins the modules the project builds on while their first users are being
// written, so that `go mod tidy` keeps them. Remove an import once real code uses it.
package tools

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/docker/cli/cli/compose/convert"
	_ "github.com/docker/cli/cli/compose/loader"
	_ "github.com/docker/docker/client"
	_ "github.com/fsnotify/fsnotify"
	_ "github.com/go-logr/logr"
	_ "github.com/onsi/ginkgo/v2"
	_ "github.com/onsi/gomega"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "golang.org/x/sys/unix"
	_ "sigs.k8s.io/yaml"
)
