"""Admin commands: one platform-free router shared by Slack, Discord and the CLI."""
