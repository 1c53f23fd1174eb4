package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"

	"github.com/ballcast/ballcast/pipeline/pluginhost"
	"github.com/ballcast/ballcast/pipeline/pluginlock"
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

const pluginUsage = `usage: ballcast plugin <command> [flags]

commands:
  install PATH [--name NAME] [--plugin-dir DIR]
                      check that PATH is a ballcast plugin (handshake and Describe),
                      copy it to DIR/ballcast-plugin-NAME and record it in DIR/plugins.lock
  list [--plugin-dir DIR]
                      list built-in and installed plugins; flags a binary that no
                      longer matches plugins.lock or is missing
  remove NAME [--plugin-dir DIR]
                      delete an installed plugin's binary and its plugins.lock entry
  serve NAME          serve a built-in plugin over the plugin protocol (used by ballcast itself)

The plugin directory defaults to $BALLCAST_PLUGIN_DIR, else the user config
directory's ballcast/plugins. See docs/plugins.md.
`

func cmdPlugin(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, pluginUsage)
		return usageError{"plugin: want install, list, remove or serve"}
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
	case "install":
		return cmdPluginInstall(args[1:], stdout, stderr)
	case "list":
		return cmdPluginList(args[1:], stdout, stderr)
	case "remove":
		return cmdPluginRemove(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, pluginUsage)
		return nil
	default:
		fmt.Fprint(stderr, pluginUsage)
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

// builtinDescription is what a built-in plugin says about itself, asked
// in process.
func builtinDescription(name string) sdk.Description {
	if d, ok := builtins[name]().(sdk.Describer); ok {
		return d.Describe()
	}
	return sdk.Description{Name: name}
}

// describeTimeout bounds starting a plugin and asking it to describe
// itself at install time.
const describeTimeout = 30 * time.Second

// cmdPluginInstall installs a plugin binary. The binary is first copied
// to a temporary file in the plugin directory and hashed; that copy is the
// one started for the handshake and Describe (with its hash checked by
// go-plugin), so what was checked is byte for byte what gets installed,
// whatever happens to PATH meanwhile. Only then is it renamed into place
// and recorded in plugins.lock.
func cmdPluginInstall(args []string, stdout, stderr io.Writer) (err error) {
	fl := newFlags("plugin install", stderr)
	nameFlag := fl.String("name", "", "install under this name instead of the one the plugin reports")
	dir := fl.String("plugin-dir", defaultPluginDir(), "directory of installed plugin binaries and plugins.lock")
	pos, err := parseFlags(fl, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"plugin install: want exactly one plugin binary path"}
	}
	src := pos[0]
	if *nameFlag != "" {
		if err := checkInstallName(*nameFlag, "--name"); err != nil {
			return usageError{err.Error()}
		}
	}
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("plugin install: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("plugin install: %s is not a regular file", src)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("plugin install: create plugin directory: %w", err)
	}

	tmp, sum, err := copyForInstall(src, *dir, fi.Size(), stderr)
	if err != nil {
		return fmt.Errorf("plugin install: copy %s: %w", src, err)
	}
	defer func() {
		if tmp != "" {
			os.Remove(tmp)
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), describeTimeout)
	defer cancel()
	info, err := pluginhost.Describe(ctx, exec.Command(tmp), sum, zerolog.Nop())
	if err != nil {
		// The copy that was started is a temporary file the user never
		// sees: name the file they gave instead.
		err = renamedErr{strings.TrimSpace(strings.ReplaceAll(err.Error(), tmp, src)), err}
		return fmt.Errorf("plugin install: %s is not a working ballcast plugin (started once for the handshake and Describe): %w", src, err)
	}
	name := *nameFlag
	if name == "" {
		name = info.Name
		if err := checkInstallName(name, "the name it reports"); err != nil {
			return fmt.Errorf("plugin install: %s: %w; choose one with --name", src, err)
		}
	}
	var schema json.RawMessage
	if info.ConfigSchema != "" {
		if _, err := compileSchema(name, info.ConfigSchema); err != nil {
			return fmt.Errorf("plugin install: %s: %w", src, err)
		}
		schema = json.RawMessage(info.ConfigSchema)
	}

	entry := pluginlock.Entry{
		Name:            name,
		Version:         info.Version,
		ProtocolVersion: info.ProtocolVersion,
		SHA256:          hex.EncodeToString(sum),
		File:            pluginlock.BinaryPrefix + name,
		InstalledAt:     time.Now().UTC().Truncate(time.Second),
		Description:     info.Description.Description,
		ConfigSchema:    schema,
	}
	final := filepath.Join(*dir, entry.File)
	var (
		old      pluginlock.Entry
		replaced bool
	)
	// The rename happens under the lock file's lock, so that concurrent
	// installs of one name leave a binary and an entry that agree.
	err = pluginlock.Update(pluginlock.Path(*dir), func(f *pluginlock.File) error {
		if err := os.Rename(tmp, final); err != nil {
			return fmt.Errorf("plugin install: %w", err)
		}
		tmp = ""
		pluginlock.SyncDir(*dir)
		old, replaced = f.Put(entry)
		return nil
	})
	if err != nil {
		return err
	}
	what := fmt.Sprintf("installed %s %s", name, versionOrDash(entry.Version))
	if replaced {
		what = fmt.Sprintf("replaced %s %s → %s", name, versionOrDash(old.Version), versionOrDash(entry.Version))
	}
	fmt.Fprintf(stdout, "%s (protocol %d, sha256 %s) as %s\n", what, entry.ProtocolVersion, entry.SHA256, final)
	return nil
}

// renamedErr is err with its text rewritten.
type renamedErr struct {
	msg string
	err error
}

func (e renamedErr) Error() string { return e.msg }
func (e renamedErr) Unwrap() error { return e.err }

// checkInstallName refuses names that are invalid or would be shadowed
// by a built-in plugin.
func checkInstallName(name, what string) error {
	if !pluginlock.ValidName(name) {
		return fmt.Errorf(`%s %q is not a valid plugin name: use a-z, 0-9, "_" and "-"`, what, name)
	}
	if _, ok := builtins[name]; ok {
		return fmt.Errorf("%s %q is a built-in plugin's name, which a stage's `plugin: %s` always means", what, name, name)
	}
	return nil
}

func versionOrDash(v string) string {
	if v == "" {
		return "(no version)"
	}
	return v
}

// copyForInstall copies src to a temporary executable file in dir and
// returns its path and SHA-256. A progress bar is shown on stderr when it
// is a terminal.
func copyForInstall(src, dir string, size int64, stderr io.Writer) (path string, sum []byte, err error) {
	in, err := os.Open(src)
	if err != nil {
		return "", nil, err
	}
	defer in.Close()
	// The dot keeps it from looking like ballcast-plugin-* to anyone.
	out, err := os.CreateTemp(dir, ".install-"+filepath.Base(src)+"-*")
	if err != nil {
		return "", nil, err
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(out.Name())
		}
	}()
	bar := progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("copying "+filepath.Base(src)),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetVisibility(isTerminal(stderr)),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h, bar), in); err != nil {
		return "", nil, err
	}
	_ = bar.Finish()
	if err := out.Chmod(0o755); err != nil {
		return "", nil, err
	}
	if err := out.Sync(); err != nil {
		return "", nil, err
	}
	if err := out.Close(); err != nil {
		return "", nil, err
	}
	return out.Name(), h.Sum(nil), nil
}

// cmdPluginList prints built-in and installed plugins. An installed
// plugin whose binary is missing or no longer has its recorded SHA-256 is
// flagged, as is a ballcast-plugin-* binary in the plugin directory that
// was not installed with `ballcast plugin install`.
func cmdPluginList(args []string, stdout, stderr io.Writer) error {
	fl := newFlags("plugin list", stderr)
	dir := fl.String("plugin-dir", defaultPluginDir(), "directory of installed plugin binaries and plugins.lock")
	pos, err := parseFlags(fl, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{"plugin list: takes no arguments"}
	}
	lock, err := pluginlock.Read(pluginlock.Path(*dir))
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tPROTOCOL\tSHA256\tSTATUS")
	for _, n := range builtinNames() {
		d := builtinDescription(n)
		fmt.Fprintf(tw, "%s\t%s\t%d\t-\tbuilt-in\n", n, d.Version, sdk.ProtocolVersion)
	}
	listed := map[string]bool{}
	for _, e := range lock.Plugins {
		listed[e.File] = true
		status := "installed"
		if err := verifyInstalled(*dir, e); err != nil {
			var m *checksumMismatch
			switch {
			case errors.As(err, &m):
				status = "MODIFIED: sha256 now " + m.actual[:12] + ", reinstall it"
			case errors.Is(err, fs.ErrNotExist):
				status = "MISSING binary, reinstall or remove it"
			default:
				status = "UNREADABLE: " + err.Error()
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", e.Name, e.Version, e.ProtocolVersion, e.SHA256[:12], status)
	}
	if ents, err := os.ReadDir(*dir); err == nil {
		for _, de := range ents {
			n := de.Name()
			if strings.HasPrefix(n, pluginlock.BinaryPrefix) && !listed[n] {
				fmt.Fprintf(tw, "%s\t-\t-\t-\tNOT INSTALLED: not in plugins.lock, run `ballcast plugin install`\n", strings.TrimPrefix(n, pluginlock.BinaryPrefix))
			}
		}
	}
	return tw.Flush()
}

// cmdPluginRemove deletes an installed plugin's binary and lock entry.
func cmdPluginRemove(args []string, stdout, stderr io.Writer) error {
	fl := newFlags("plugin remove", stderr)
	dir := fl.String("plugin-dir", defaultPluginDir(), "directory of installed plugin binaries and plugins.lock")
	pos, err := parseFlags(fl, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"plugin remove: want exactly one plugin name"}
	}
	name := pos[0]
	if _, ok := builtins[name]; ok {
		return fmt.Errorf("plugin remove: %s is built into ballcast and cannot be removed", name)
	}
	lockPath := pluginlock.Path(*dir)
	if _, err := os.Stat(lockPath); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("plugin remove: no installed plugin %q: %s does not exist", name, lockPath)
	}
	var gone pluginlock.Entry
	err = pluginlock.Update(lockPath, func(f *pluginlock.File) error {
		e, ok := f.Lookup(name)
		if !ok {
			return fmt.Errorf("plugin remove: no installed plugin %q in %s (installed: %s)", name, lockPath, installedNames(f))
		}
		if err := os.Remove(filepath.Join(*dir, e.File)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("plugin remove: %w", err)
		}
		gone, _ = f.Remove(name)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "removed %s %s\n", gone.Name, versionOrDash(gone.Version))
	return nil
}

func installedNames(f *pluginlock.File) string {
	if len(f.Plugins) == 0 {
		return "none"
	}
	names := make([]string, len(f.Plugins))
	for i, e := range f.Plugins {
		names[i] = e.Name
	}
	return strings.Join(names, ", ")
}

// checksumMismatch is an installed binary whose SHA-256 differs from its
// plugins.lock entry.
type checksumMismatch struct {
	path, actual, expected string
}

func (e *checksumMismatch) Error() string {
	return fmt.Sprintf("binary %s has SHA-256 %s, but plugins.lock expects %s: it changed after it was installed; reinstall it with `ballcast plugin install`",
		e.path, e.actual, e.expected)
}

// verifyInstalled hashes an installed plugin's binary, without starting
// it, and compares the hash with its lock entry.
func verifyInstalled(dir string, e pluginlock.Entry) error {
	path := filepath.Join(dir, e.File)
	sum, err := pluginhost.FileSHA256(path)
	if err != nil {
		return err
	}
	if actual := hex.EncodeToString(sum); actual != e.SHA256 {
		return &checksumMismatch{path: path, actual: actual, expected: e.SHA256}
	}
	return nil
}

// pluginKind says where a stage's plugin comes from, and so how far it is
// trusted.
type pluginKind int

const (
	// pluginPath is a `plugin:` value containing "/": the operator named
	// the binary in the pipeline file and it is trusted as it is.
	pluginPath pluginKind = iota
	// pluginBuiltin is served by the ballcast binary itself.
	pluginBuiltin
	// pluginInstalled was installed with `ballcast plugin install` and is
	// started only with the SHA-256 recorded in plugins.lock.
	pluginInstalled
)

// resolvedPlugin is how to run a stage's plugin.
type resolvedPlugin struct {
	kind    pluginKind
	path    string // the binary (ballcast itself for a built-in)
	command func() *exec.Cmd
	entry   pluginlock.Entry // pluginInstalled only
	sum     []byte           // pluginInstalled only: the SHA-256 the binary must have
}

// pluginResolver resolves `plugin:` values against the built-ins and one
// plugin directory, reading its plugins.lock once, when first needed.
type pluginResolver struct {
	dir     string
	lock    *pluginlock.File
	lockErr error
	read    bool
}

func (r *pluginResolver) lockFile() (*pluginlock.File, error) {
	if !r.read {
		r.read = true
		if r.dir == "" {
			r.lock = &pluginlock.File{Version: pluginlock.FormatVersion}
		} else {
			r.lock, r.lockErr = pluginlock.Read(pluginlock.Path(r.dir))
		}
	}
	return r.lock, r.lockErr
}

// resolve finds a stage's plugin: a path (any value containing "/"),
// trusted as is; a built-in name, served by this binary; or the name of a
// plugin installed in the plugin directory, which must have a plugins.lock
// entry. A ballcast-plugin-NAME binary in the directory without an entry
// is refused: nothing vouches for it. PATH is not searched.
func (r *pluginResolver) resolve(plugin string) (resolvedPlugin, error) {
	if strings.ContainsRune(plugin, '/') {
		path, err := filepath.Abs(plugin)
		if err != nil {
			return resolvedPlugin{}, err
		}
		if _, err := os.Stat(path); err != nil {
			return resolvedPlugin{}, fmt.Errorf("plugin %s: %w", plugin, err)
		}
		return resolvedPlugin{kind: pluginPath, path: path, command: func() *exec.Cmd { return exec.Command(path) }}, nil
	}
	if _, ok := builtins[plugin]; ok {
		self, err := os.Executable()
		if err != nil {
			return resolvedPlugin{}, fmt.Errorf("plugin %s: find own executable: %w", plugin, err)
		}
		return resolvedPlugin{kind: pluginBuiltin, path: self, command: func() *exec.Cmd { return exec.Command(self, "plugin", "serve", plugin) }}, nil
	}
	lock, err := r.lockFile()
	if err != nil {
		return resolvedPlugin{}, fmt.Errorf("plugin %s: %w", plugin, err)
	}
	if e, ok := lock.Lookup(plugin); ok {
		sum, err := e.Checksum()
		if err != nil {
			return resolvedPlugin{}, err
		}
		path := filepath.Join(r.dir, e.File)
		if abs, err := filepath.Abs(path); err == nil {
			path = abs // the process may not share our working directory's meaning
		}
		if _, err := os.Stat(path); err != nil {
			return resolvedPlugin{}, fmt.Errorf("plugin %s is in %s but its binary is missing (%w); reinstall it with `ballcast plugin install PATH`, or remove it with `ballcast plugin remove %s`",
				plugin, pluginlock.Path(r.dir), err, plugin)
		}
		return resolvedPlugin{kind: pluginInstalled, path: path, command: func() *exec.Cmd { return exec.Command(path) }, entry: e, sum: sum}, nil
	}
	bin := pluginlock.BinaryPrefix + plugin
	if r.dir != "" {
		p := filepath.Join(r.dir, bin)
		if _, err := os.Stat(p); err == nil {
			return resolvedPlugin{}, fmt.Errorf("plugin %s: %s was not installed with `ballcast plugin install` (no entry in %s), so its checksum cannot be verified; install it with `ballcast plugin install %s`, or name a binary you trust by path in the pipeline (plugin: ./path/to/%s)",
				plugin, p, pluginlock.Path(r.dir), p, bin)
		}
	}
	return resolvedPlugin{}, fmt.Errorf("plugin %q: not built in (%s), not a path, and not installed in %q; install it with `ballcast plugin install PATH` (see `ballcast plugin list`)",
		plugin, strings.Join(builtinNames(), ", "), r.dir)
}

// pluginCommand returns the command of a built-in plugin or of one named
// by path (see pluginResolver.resolve). An installed plugin must be
// started with its checksum, so it is refused here: use the resolver, as
// startStages does.
func pluginCommand(plugin, pluginDir string) (func() *exec.Cmd, error) {
	r := &pluginResolver{dir: pluginDir}
	p, err := r.resolve(plugin)
	if err != nil {
		return nil, err
	}
	if p.kind == pluginInstalled {
		return nil, fmt.Errorf("plugin %s: an installed plugin is started only with its plugins.lock checksum", plugin)
	}
	return p.command, nil
}
