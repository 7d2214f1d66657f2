"""Reusable NiceGUI building blocks; they receive views and callbacks, never sessions."""
