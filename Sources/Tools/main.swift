print("nanowm placeholder")
