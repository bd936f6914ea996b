package config

import (
	"encoding/json"
	"fmt"
)

// Snapshot is what a config generation was read from: the effective tree
// and the read-time facts (ServerRoot, defines, MPM). The master hands it to
// its children, which process it again without touching the config files,
// so every child of a generation runs exactly the config the master checked.
type Snapshot struct {
	ServerRoot string            `json:"server_root"`
	File       string            `json:"file"`
	MPM        string            `json:"mpm"`
	Params     []string          `json:"params,omitempty"`
	Vars       map[string]string `json:"vars,omitempty"`
	Tree       []*Node           `json:"tree"`
}

// Snapshot returns the read part of cfg (not the processed settings).
func (cfg *Config) Snapshot() *Snapshot {
	return &Snapshot{ServerRoot: cfg.ServerRoot, File: cfg.File, MPM: cfg.MPM, Params: cfg.Params, Vars: cfg.Vars, Tree: cfg.Tree}
}

// Marshal encodes the snapshot for another process.
func (s *Snapshot) Marshal() ([]byte, error) { return json.Marshal(s) }

// UnmarshalSnapshot decodes what Marshal encoded.
func UnmarshalSnapshot(data []byte) (*Snapshot, error) {
	var s Snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("config snapshot: %w", err)
	}
	return &s, nil
}

// Process runs every directive handler over the snapshot's tree, as
// Process does for a freshly read config.
func (s *Snapshot) Process(reg *Registry) (*Config, error) {
	vars := s.Vars
	if vars == nil {
		vars = map[string]string{}
	}
	cfg := &Config{ServerRoot: s.ServerRoot, File: s.File, MPM: s.MPM, Params: s.Params, Vars: vars, Tree: s.Tree}
	if err := Process(cfg, reg); err != nil {
		return nil, err
	}
	return cfg, nil
}
