"""Many runs of one scenario: local processes today (Ray comes with the campaigns issue)."""
