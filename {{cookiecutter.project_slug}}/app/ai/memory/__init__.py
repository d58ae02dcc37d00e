"""Long-term memory: what agents keep about their users, and how it is found again."""
