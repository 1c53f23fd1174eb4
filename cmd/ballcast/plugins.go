package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ballcast/ballcast/plugins/commentary"
	"github.com/ballcast/ballcast/plugins/dedup"
	"github.com/ballcast/ballcast/plugins/echo"
	"github.com/ballcast/ballcast/plugins/sdk"
	"github.com/ballcast/ballcast/plugins/stats"
)

// builtins are the plugins shipped inside the ballcast binary. They still
// run out of process: ballcast re-executes itself as `ballcast plugin serve
// NAME`, so one binary is enough. A map literal refuses duplicate names at
// compile time.
var builtins = map[string]func() sdk.Stage{
	"dedup":      func() sdk.Stage { return dedup.New() },
	"stats":      func() sdk.Stage { return stats.New() },
	"commentary": func() sdk.Stage { return commentary.New() },
	"echo":       func() sdk.Stage { return echo.New() },
}

func cmdPlugin(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"plugin: want serve NAME or list"}
	}
	switch args[0] {
	case "serve":
		if len(args) != 2 {
			return usageError{"plugin serve: want exactly one plugin name"}
		}
		mk, ok := builtins[args[1]]
		if !ok {
			return usageError{fmt.Sprintf("plugin serve: no built-in plugin %q (have %s)", args[1], strings.Join(builtinNames(), ", "))}
		}
		sdk.Serve(mk(), nil)
		return nil
	case "list":
		for _, n := range builtinNames() {
			fmt.Fprintf(stdout, "%s\tbuilt-in\n", n)
		}
		return nil
	default:
		return usageError{fmt.Sprintf("plugin: unknown subcommand %q", args[0])}
	}
}

func builtinNames() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// pluginCommand resolves a stage's plugin: a path (contains a slash), a
// built-in name, or ballcast-plugin-NAME in the plugin directory or PATH.
func pluginCommand(plugin, pluginDir string) (func() *exec.Cmd, error) {
	if strings.ContainsRune(plugin, '/') {
		path, err := filepath.Abs(plugin)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("plugin %s: %w", plugin, err)
		}
		return func() *exec.Cmd { return exec.Command(path) }, nil
	}
	if _, ok := builtins[plugin]; ok {
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("plugin %s: find own executable: %w", plugin, err)
		}
		return func() *exec.Cmd { return exec.Command(self, "plugin", "serve", plugin) }, nil
	}
	bin := "ballcast-plugin-" + plugin
	if pluginDir != "" {
		p := filepath.Join(pluginDir, bin)
		if _, err := os.Stat(p); err == nil {
			return func() *exec.Cmd { return exec.Command(p) }, nil
		}
	}
	if p, err := exec.LookPath(bin); err == nil {
		return func() *exec.Cmd { return exec.Command(p) }, nil
	}
	return nil, fmt.Errorf("plugin %q: not built in (%s), not a path, and no %s in %q or PATH", plugin, strings.Join(builtinNames(), ", "), bin, pluginDir)
}
