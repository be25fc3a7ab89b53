package tiers

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"coopcloud.tech/ccci-controller/internal/swarm"
)

// untrustedSuffix ends every finding of hostReach, so an operator reading one knows both why
// and how to allow it.
const untrustedSuffix = ": not allowed for untrusted refs; set spec.trust: trusted to allow"

// proxyNetwork is Co-op Cloud's traefik network, which every web app joins.
const proxyNetwork = "proxy"

// hostReach lists what a loaded stack asks of the host beyond its own containers (see
// v1.RecipeTestSpec.Trust), one finding per service, field and value, in a stable order.
// networks are the external networks it may join besides proxy: those of the run's requires.
func hostReach(st *swarm.Stack, networks []string) []string {
	var out []string
	add := func(where string, value any, why string) {
		out = append(out, fmt.Sprintf("%s %q%s%s", where, fmt.Sprint(value), why, untrustedSuffix))
	}
	cfg := st.Config
	for _, s := range cfg.Services {
		at := "services." + s.Name + "."
		for _, v := range s.Volumes {
			switch v.Type {
			case "bind", "npipe":
				why := " (a host path mounted at " + v.Target + ")"
				if strings.HasSuffix(v.Source, "docker.sock") {
					why = " (the Docker socket, which is root on the host)"
				}
				add(at+"volumes", v.Source, why)
			}
		}
		if s.Privileged {
			add(at+"privileged", true, "")
		}
		for _, c := range s.CapAdd {
			add(at+"cap_add", c, "")
		}
		for _, d := range s.Devices {
			add(at+"devices", d, "")
		}
		for field, v := range map[string]string{"network_mode": s.NetworkMode, "pid": s.Pid, "ipc": s.Ipc, "userns_mode": s.UserNSMode, "cgroupns_mode": s.CgroupNSMode} {
			if v == "host" || strings.HasPrefix(v, "container:") || strings.HasPrefix(v, "service:") {
				add(at+field, v, "")
			}
		}
		for _, o := range s.SecurityOpt {
			if !slices.Contains([]string{"no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"}, o) {
				add(at+"security_opt", o, "")
			}
		}
		for k, v := range s.Sysctls {
			add(at+"sysctls", k+"="+v, "")
		}
		for _, f := range s.EnvFile {
			if !inside(st.WorkingDir, f) {
				add(at+"env_file", f, " (outside the checkout)")
			}
		}
		for name := range s.Networks {
			n, ok := cfg.Networks[name]
			if !ok || !n.External.External {
				continue
			}
			swarmName := n.Name
			if swarmName == "" {
				swarmName = name
			}
			if swarmName != proxyNetwork && !slices.Contains(networks, swarmName) {
				add(at+"networks", swarmName, " (an external network that is not proxy nor one of spec.requires)")
			}
		}
	}
	for key, c := range cfg.Configs {
		if c.File != "" && !inside(st.WorkingDir, c.File) {
			add("configs."+key+".file", c.File, " (outside the checkout)")
		}
	}
	for key, c := range cfg.Secrets {
		if c.File != "" && !inside(st.WorkingDir, c.File) {
			add("secrets."+key+".file", c.File, " (outside the checkout)")
		}
	}
	for key, v := range cfg.Volumes {
		if dev, ok := v.DriverOpts["device"]; ok {
			add("volumes."+key+".driver_opts.device", dev, " (a host device or path)")
		}
	}
	sort.Strings(out)
	return out
}

// inside says whether path (absolute, or relative to dir) lies within dir.
func inside(dir, path string) bool {
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && filepath.IsLocal(rel)
}
