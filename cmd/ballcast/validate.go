package main

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/pipeline"
)

// cmdValidate checks a pipeline file without running it: syntax, schema,
// values, sources' and broadcast's sections, and that every plugin can be
// found. Every problem is printed as file:line:col: message.
func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("validate", stderr)
	pluginDir := fs.String("plugin-dir", defaultPluginDir(), "directory of installed plugin binaries")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageError{"validate: want a pipeline file"}
	}
	failed := false
	for _, f := range files {
		if err := validateFile(f, *pluginDir); err != nil {
			fmt.Fprintln(stderr, err)
			failed = true
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", f)
	}
	if failed {
		return errQuiet
	}
	return nil
}

func validateFile(path, pluginDir string) error {
	cfg, err := loadConfig(path)
	if cfg == nil {
		return err // not YAML, or not a mapping: nothing more to check
	}
	// A partial config comes with its schema errors; keep checking the
	// rest so every problem is reported at once.
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if _, err := buildSources(cfg, zerolog.Nop()); err != nil {
		errs = append(errs, err)
	}
	var b broadcast.Config
	if err := cfg.Broadcast.Decode(&b); err != nil {
		errs = append(errs, err)
	} else if err := b.Validate(); err != nil {
		errs = append(errs, cfg.Broadcast.Errorf("", "%v", err))
	}
	for i, sc := range cfg.Stages {
		if _, err := pluginCommand(sc.Plugin, pluginDir); err != nil {
			errs = append(errs, cfg.Errorf(fmt.Sprintf("stages[%d].plugin", i), "%v", err))
		}
	}
	return sortByPosition(errs)
}

// sortByPosition flattens joined errors and orders them by file position,
// so the report reads top to bottom.
func sortByPosition(errs []error) error {
	var flat []error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		flat = append(flat, err)
	}
	for _, err := range errs {
		walk(err)
	}
	pos := func(err error) (int, int) {
		var ce *pipeline.ConfigError
		if errors.As(err, &ce) {
			return ce.Line, ce.Col
		}
		return 1 << 30, 0
	}
	sort.SliceStable(flat, func(i, j int) bool {
		li, ci := pos(flat[i])
		lj, cj := pos(flat[j])
		return li < lj || li == lj && ci < cj
	})
	return errors.Join(flat...)
}
