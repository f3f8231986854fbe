"""The sign-up flow itself: the steps, what travels between pages, rate limits, bot checks and the app's errors."""
