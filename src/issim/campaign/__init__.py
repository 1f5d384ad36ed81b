"""Many runs of one scenario: ``issim endings`` (seeds, a results file) and campaigns (dispersed
inputs, worker processes or Ray, the archive; docs/campaigns.md)."""
