"""The shapes of messages as they travel, checked before the domain's rules read them."""
