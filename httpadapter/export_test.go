package httpadapter

// Routes is every route New serves for cfg, as "METHOD pattern", from
// the table the mux is registered from.
func Routes(cfg Config) []string {
	cfg = withDefaults(cfg)
	var out []string
	for _, t := range tables(cfg, newThrottle(cfg.Limits, maxThrottleKeys, maxKnownUsers, cfg.Now)) {
		for _, rt := range t.routes {
			out = append(out, rt.method+" "+rt.pattern)
		}
	}
	return out
}
