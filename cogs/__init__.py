"""Thin slash commands and menus: each parses options, then calls the ui and core layers."""
