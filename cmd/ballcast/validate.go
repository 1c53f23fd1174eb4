package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/ballcast/ballcast/broadcast"
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
	if err != nil {
		return err
	}
	var errs []error
	if _, err := buildSources(cfg); err != nil {
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
			errs = append(errs, sc.Config.Errorf("", "stages[%d]: %v", i, err))
		}
	}
	return errors.Join(errs...)
}
