"""Login: passwords and single sign-on."""
