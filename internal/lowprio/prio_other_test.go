//go:build !linux

package lowprio

func threadPolicies() string { return "" }
