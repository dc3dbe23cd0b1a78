// Package systemd holds no code: it is the systemd unit for running sesame
// as a service (sesame.service) and the example production configuration
// that goes with it (sesame.toml), and the tests that keep both valid —
// systemd-analyze accepts the unit, internal/config loads the example.
package systemd
