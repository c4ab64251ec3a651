// Translation unit that exists only to own the precompiled <torch/torch.h> (see AvslPch.cmake).
