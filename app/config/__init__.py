"""What the operator configures: settings from the environment, the form's declaration and its model."""
